package handlers

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// proxies decides whose X-Forwarded-For and X-Forwarded-Proto headers are believed.
// Anyone else could rotate those headers to dodge rate limits or fake HTTPS.
type proxies struct {
	trusted []netip.Prefix
}

// parseProxies reads CIDRs or single addresses; an empty list trusts no one.
func parseProxies(list []string) (proxies, error) {
	var p proxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return p, fmt.Errorf("trusted proxy %q: %w", s, err)
			}
			s = netip.PrefixFrom(a, a.BitLen()).String()
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		p.trusted = append(p.trusted, pfx.Masked())
	}
	return p, nil
}

func (p proxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, pfx := range p.trusted {
		if pfx.Contains(a) {
			return true
		}
	}
	return false
}

const (
	localClientIP = "client_ip"
	localHTTPS    = "https"
)

// middleware finds the client's address and scheme. Behind trusted proxies it walks
// X-Forwarded-For from the right and takes the first address it does not trust, since
// the left part is whatever the client sent.
func (p proxies) middleware(c *fiber.Ctx) error {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	client, https := peer.Unmap(), c.Context().IsTLS()
	if p.trusts(peer) {
		client = p.forwardedClient(c.Get(fiber.HeaderXForwardedFor), client)
		if proto := c.Get(fiber.HeaderXForwardedProto); proto != "" {
			https = strings.EqualFold(strings.TrimSpace(strings.Split(proto, ",")[0]), "https")
		}
	}
	c.Locals(localClientIP, client.String())
	c.Locals(localHTTPS, https)
	return c.Next()
}

func (p proxies) forwardedClient(header string, peer netip.Addr) netip.Addr {
	hops := strings.Split(header, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer
		}
		if !p.trusts(a) {
			return a.Unmap()
		}
		peer = a
	}
	return peer
}

// clientKey is what per-address budgets and caps count the caller as: its IPv4
// address, or the /64 of its IPv6 address. An IPv6 client normally holds a whole /64
// (its LAN's prefix), so keying on the full address would give it 2^64 budgets.
func clientKey(c *fiber.Ctx) string {
	return addressKey(clientIP(c))
}

// addressKey keys an IPv6 address on its /64 and returns anything else unchanged.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a = a.Unmap(); a.Is4() {
		return a.String()
	}
	pfx, _ := a.WithZone("").Prefix(64)
	return pfx.String()
}

// clientIP is the caller's address as the proxies middleware found it.
func clientIP(c *fiber.Ctx) string {
	if ip, ok := c.Locals(localClientIP).(string); ok {
		return ip
	}
	return c.IP()
}

// isHTTPS reports whether the request reached us, or a trusted proxy, over TLS.
func isHTTPS(c *fiber.Ctx) bool {
	https, _ := c.Locals(localHTTPS).(bool)
	return https
}
