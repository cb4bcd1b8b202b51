//go:build drill

package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestDrillObjectVersionsUndoOverwriteAndDelete is the object half of a restore
// (docs/operations.md, "Object storage"): with bucket versioning on, an object that was
// overwritten or deleted after the restore point is read back as it was. It runs the
// devstack's S3 server (versitygw) with versioning, as deploy/compose does.
func TestDrillObjectVersionsUndoOverwriteAndDelete(t *testing.T) {
	dir := drillDir(t)
	addr := freeAddr(t)
	gw := exec.Command(versitygwBinary(t), "--port", addr, "--access", "drill", "--secret", "drill-secret-key",
		"--region", "us-east-1", "--quiet", "posix", "--versioning-dir", filepath.Join(dir, "versions"), filepath.Join(dir, "data"))
	for _, sub := range []string{"versions", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	gw.Stdout, gw.Stderr = os.Stderr, os.Stderr
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Process.Kill(); _ = gw.Wait() })
	waitPort(t, addr)
	c := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("drill", "drill-secret-key", ""),
	})
	ctx, bucket, key := context.Background(), aws.String("media"), aws.String("u/1/avatar.png")
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}))
	must(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}))
	first, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: bytes.NewReader([]byte("as of the restore point"))})
	if err != nil {
		t.Fatal(err)
	}
	must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: bytes.NewReader([]byte("overwritten later"))}))
	must(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: key}))
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key}); err == nil {
		t.Fatal("the deleted object is still readable without a version")
	}
	versions, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: bucket})
	if err != nil || len(versions.Versions) != 2 || len(versions.DeleteMarkers) != 1 {
		t.Fatalf("versions %+v, %v; want 2 versions and a delete marker", versions, err)
	}
	old, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key, VersionId: first.VersionId})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(old.Body)
	old.Body.Close()
	if string(body) != "as of the restore point" {
		t.Fatalf("first version reads %q", body)
	}
	// Restoring it: copy the old version over the current state.
	must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: key,
		CopySource: aws.String(*bucket + "/" + *key + "?versionId=" + *first.VersionId)}))
	now, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(now.Body)
	now.Body.Close()
	if string(body) != "as of the restore point" {
		t.Fatalf("restored object reads %q", body)
	}
}

// versitygwBinary is the S3 server scripts/devstack built into its cache.
func versitygwBinary(t *testing.T) string {
	t.Helper()
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		cache = filepath.Join(os.Getenv("HOME"), ".cache")
	}
	found, _ := filepath.Glob(filepath.Join(cache, "gigstream", "bin", "versitygw-*"))
	if len(found) == 0 {
		t.Fatal("no versitygw in the devstack's cache: run scripts/devstack up")
	}
	return found[len(found)-1]
}
