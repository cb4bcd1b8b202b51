package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestObjectStorePutRoundTrip(t *testing.T) {
	client, bucket := testS3(t, "")
	objects := NewObjectStoreWithConfig(client, bucket, ObjectStoreConfig{PartSize: 5 << 20})
	prefix := testPrefix(t)
	ctx := context.Background()
	for _, size := range []int{0, 1000, 5 << 20, 12<<20 + 3} {
		data := randomBytesN(size)
		key := prefix + "/" + strings.Repeat("x", size%7+1)
		info, err := objects.Put(ctx, key, bytes.NewReader(data), PutOptions{ContentType: TypeOctetStream})
		if err != nil {
			t.Fatalf("Put %d bytes: %v", size, err)
		}
		if info.Size != int64(size) {
			t.Errorf("Put size = %d, want %d", info.Size, size)
		}
		body, head, err := objects.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(body)
		body.Close()
		if sha256.Sum256(got) != sha256.Sum256(data) || head.Size != int64(size) {
			t.Errorf("%d bytes: stored object differs (%d bytes back)", size, len(got))
		}
		if err := objects.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, err := objects.Head(ctx, key); !errors.Is(err, ErrObjectNotFound) {
			t.Errorf("Head after Delete = %v, want ErrObjectNotFound", err)
		}
	}
	assertNothingStored(t, client, bucket, prefix)
}

func TestObjectWriterAbortLeavesNothing(t *testing.T) {
	client, bucket := testS3(t, "")
	objects := NewObjectStoreWithConfig(client, bucket, ObjectStoreConfig{PartSize: 5 << 20})
	prefix := testPrefix(t)
	w := objects.NewWriter(context.Background(), prefix+"/obj", PutOptions{})
	if _, err := io.Copy(w, randomReader(11<<20)); err != nil {
		t.Fatal(err)
	}
	if len(leftovers(t, client, bucket, prefix)) == 0 {
		t.Fatal("expected a multipart upload in progress")
	}
	if err := w.Abort(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertNothingStored(t, client, bucket, prefix)
}

func TestObjectStoreDown(t *testing.T) {
	client, bucket := testS3(t, "http://"+closedAddr(t))
	objects := NewObjectStore(client, bucket)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := objects.Put(ctx, testPrefix(t)+"/x", bytes.NewReader([]byte("data")), PutOptions{})
	if !errors.Is(err, ErrStorage) {
		t.Fatalf("Put = %v, want ErrStorage", err)
	}
}

func TestPresignGet(t *testing.T) {
	client, bucket := testS3(t, "")
	objects := NewObjectStore(client, bucket)
	ctx := context.Background()
	key := testPrefix(t) + "/doc"
	data := []byte("%PDF-1.4 not really")
	if _, err := objects.Put(ctx, key, bytes.NewReader(data), PutOptions{ContentType: TypePDF}); err != nil {
		t.Fatal(err)
	}
	defer objects.Delete(ctx, key)
	name := "../Résumé \"2024\".pdf"
	url, err := objects.PresignGet(ctx, key, name, TypePDF, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, data) {
		t.Fatalf("GET presigned = %d %q", resp.StatusCode, got)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != ContentDisposition(name) {
		t.Errorf("Content-Disposition = %q, want %q", cd, ContentDisposition(name))
	}
	if ct := resp.Header.Get("Content-Type"); ct != TypePDF {
		t.Errorf("Content-Type = %q", ct)
	}
	tampered := strings.Replace(url, "/doc?", "/doc2?", 1)
	resp, err = http.Get(tampered)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("tampered URL: %s, want 403", resp.Status)
	}
}
