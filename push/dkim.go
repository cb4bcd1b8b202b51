package push

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/emersion/go-msgauth/dkim"
)

// DKIMConfig signs every outgoing message with DKIM (RFC 6376), so that receivers can
// tell our mail from forgeries of our domain. The public half of Signer must be
// published as a TXT record at Selector._domainkey.Domain.
type DKIMConfig struct {
	Domain   string        // the d= tag: the signing domain, normally the From address's
	Selector string        // the s= tag: names the key's DNS record under _domainkey
	Signer   crypto.Signer // an *rsa.PrivateKey (2048 bits or more) or ed25519.PrivateKey
}

// dkimHeaders are the header fields signed: those a forger would change, plus the
// List-Unsubscribe pair so that nobody can swap in a link of their own.
var dkimHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
	"List-Unsubscribe", "List-Unsubscribe-Post"}

// sign returns msg with a DKIM-Signature header in front.
func (c *DKIMConfig) sign(msg []byte) ([]byte, error) {
	var out bytes.Buffer
	err := dkim.Sign(&out, bytes.NewReader(msg), &dkim.SignOptions{
		Domain: c.Domain, Selector: c.Selector, Signer: c.Signer, HeaderKeys: dkimHeaders,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
	})
	if err != nil {
		return nil, fmt.Errorf("push: dkim sign: %w", err)
	}
	return out.Bytes(), nil
}

// ErrDKIMKey is wrapped by ParseDKIMKey for a key it cannot use.
var ErrDKIMKey = errors.New("push: unusable DKIM private key")

// ParseDKIMKey reads a PEM private key for DKIM: PKCS #8 (RSA or Ed25519) or PKCS #1
// RSA. It returns an error wrapping ErrDKIMKey for anything else, or an RSA key
// shorter than 1024 bits (receivers ignore those).
func ParseDKIMKey(pemBytes []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrDKIMKey)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		if rk, err1 := x509.ParsePKCS1PrivateKey(block.Bytes); err1 == nil {
			key, err = rk, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDKIMKey, err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 1024 {
			return nil, fmt.Errorf("%w: RSA key of %d bits, want at least 1024", ErrDKIMKey, k.N.BitLen())
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("%w: %T is neither RSA nor Ed25519", ErrDKIMKey, key)
}
