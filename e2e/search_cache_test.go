package e2e

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rawGet is GET url with the given headers, the body as sent (not decompressed).
func rawGet(t *testing.T, url string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestSearchCacheHitsAnswerLikeAMissAndShowTheSellersEdit: a search answered from the
// node's result cache (with its encoded answer kept) sends the same bytes and ETag as
// the miss that made it, gzip-compressed when asked with a weak ETag, 304 on
// If-None-Match; and the seller who edits the gig sees the edit in the next search.
func TestSearchCacheHitsAnswerLikeAMissAndShowTheSellersEdit(t *testing.T) {
	n := gigNode(t)
	_, tok := appUser(t, n, "quokkas")
	seller := &client{t: t, base: n.URL, bearer: tok}
	body := gigBody("Quokka portrait in watercolour", "graphics-design", pkg("basic", 3000, "USD"))
	body["description"] = "<p>" + strings.Repeat("A careful watercolour portrait of your favourite animal. ", 30) + "</p>"
	g := createGig(t, seller, body)
	expect(t, seller.do("POST", "/gigs/"+g.ID+"/publish", nil), 200, "publish")

	search := n.URL + "/gigs?facets=true&q=quokka"
	hits0, _ := metricOf(t, n, "gigstream_search_cache_hits_total")
	missResp, miss := rawGet(t, search, "Accept-Encoding", "identity")
	hitResp, hit := rawGet(t, search, "Accept-Encoding", "identity")
	if missResp.StatusCode != 200 || !bytes.Equal(miss, hit) || missResp.Header.Get("ETag") != hitResp.Header.Get("ETag") {
		t.Fatalf("a hit answers %d %q (ETag %s), the miss %d %q (ETag %s)", hitResp.StatusCode, hit, hitResp.Header.Get("ETag"),
			missResp.StatusCode, miss, missResp.Header.Get("ETag"))
	}
	if !strings.Contains(string(hit), "Quokka portrait in watercolour") || len(hit) < 1024 {
		t.Fatalf("the search answers %q", hit)
	}
	gzResp, gz := rawGet(t, search, "Accept-Encoding", "gzip")
	if gzResp.Header.Get("Content-Encoding") != "gzip" || gzResp.Header.Get("ETag") != "W/"+hitResp.Header.Get("ETag") ||
		!strings.Contains(gzResp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip hit: Content-Encoding %q, ETag %q, Vary %q", gzResp.Header.Get("Content-Encoding"), gzResp.Header.Get("ETag"), gzResp.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := io.ReadAll(zr); err != nil || !bytes.Equal(plain, hit) {
		t.Fatalf("gzip hit decompresses to %q (%v)", plain, err)
	}
	if r, _ := rawGet(t, search, "If-None-Match", gzResp.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match of a hit: %d", r.StatusCode)
	}
	if hits, _ := metricOf(t, n, "gigstream_search_cache_hits_total"); hits < hits0+3 {
		t.Fatalf("%v cache hits of 4 repeated searches", hits-hits0)
	}

	title := "Quokka portrait in gouache"
	expect(t, seller.do("PATCH", "/gigs/"+g.ID, map[string]any{"title": title}), 200, "edit the title")
	var page gigPage
	expect(t, as(t, n, "", "GET", "/gigs?facets=true&q=quokka"), 200, "search after the edit").json(t, &page)
	if len(page.Gigs) != 1 || page.Gigs[0].Title != title {
		t.Fatalf("the search right after the edit shows %+v", page.Gigs)
	}
}

// metricOf reads one series of the node's /metrics; found is false without it.
func metricOf(t *testing.T, n *Node, series string) (v float64, found bool) {
	t.Helper()
	_, body := rawGet(t, n.URL+"/metrics")
	return metricValue(string(body), series)
}
