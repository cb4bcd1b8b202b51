package media

import (
	"bufio"
	"context"
	"flag"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

var benchSize = flag.Int64("media.bench-size", 0,
	"bytes per phase of BenchmarkUploadThroughput; 0 means 256 MiB with -short, 1 GiB otherwise")

// repeatReader yields size bytes by cycling a random block: data generation costs a
// memcpy, so the measurement is of clamd, S3 and the pipeline, not of a random generator.
type repeatReader struct {
	block []byte
	off   int
	left  int64
}

func newRepeatReader(size int64) *repeatReader {
	return &repeatReader{block: randomBytesN(1<<20 + 17), left: size}
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.left)]
	n := copy(p, r.block[r.off:])
	r.off = (r.off + n) % len(r.block)
	r.left -= int64(n)
	return n, nil
}

func benchRig(b *testing.B) (*Scanner, *ObjectStore, *Pipeline, *s3.Client, string) {
	client, bucket := testS3(b, "")
	scanner := NewScanner(testClamd(b))
	objects := NewObjectStore(client, bucket)
	return scanner, objects, NewPipeline(scanner, objects, Config{}), client, bucket
}

// BenchmarkIngest measures the whole pipeline on 32 MiB deliverables.
func BenchmarkIngest(b *testing.B) {
	const size = 32 << 20
	_, objects, pipeline, _, _ := benchRig(b)
	prefix := testPrefix(b)
	ctx := context.Background()
	b.SetBytes(size)
	for b.Loop() {
		res, err := pipeline.Ingest(ctx, IngestRequest{
			Kind: KindDeliverable, Body: newRepeatReader(size), DeclaredSize: size, KeyPrefix: prefix,
		})
		if err != nil {
			b.Fatal(err)
		}
		objects.Delete(ctx, res.Key)
	}
}

// BenchmarkUploadThroughput is the upload issue's benchmark: for one size (see
// -media.bench-size) it measures, one after the other in one process, raw clamd INSTREAM
// throughput, raw S3 multipart PUT throughput and the pipeline's throughput, and the peak
// RSS growth of each phase. Run it with
//
//	go test ./media -run '^$' -bench UploadThroughput -benchtime 1x [-short] [-media.bench-size N]
func BenchmarkUploadThroughput(b *testing.B) {
	size := *benchSize
	if size == 0 {
		size = 1 << 30
		if testing.Short() {
			size = 256 << 20
		}
	}
	scanner, objects, pipeline, _, _ := benchRig(b)
	prefix := testPrefix(b)
	ctx := context.Background()
	for b.Loop() {
		clamdRate, clamdRSS := measurePhase(b, size, func() {
			if v, err := scanner.Scan(ctx, newRepeatReader(size)); err != nil || !v.Clean {
				b.Fatalf("scan: %+v, %v", v, err)
			}
		})
		s3Rate, s3RSS := measurePhase(b, size, func() {
			info, err := objects.Put(ctx, prefix+"/raw", newRepeatReader(size), PutOptions{})
			if err != nil {
				b.Fatal(err)
			}
			objects.Delete(ctx, info.Key)
		})
		pipeRate, pipeRSS := measurePhase(b, size, func() {
			res, err := pipeline.Ingest(ctx, IngestRequest{
				Kind: KindDeliverable, Body: newRepeatReader(size), DeclaredSize: size, KeyPrefix: prefix,
			})
			if err != nil {
				b.Fatal(err)
			}
			objects.Delete(ctx, res.Key)
		})
		b.ReportMetric(clamdRate, "clamd-MB/s")
		b.ReportMetric(s3Rate, "s3-MB/s")
		b.ReportMetric(pipeRate, "pipeline-MB/s")
		b.ReportMetric(pipeRate/min(clamdRate, s3Rate), "pipeline/slower")
		b.ReportMetric(pipeRSS/(1<<20), "pipeline-peak-RSS-growth-MiB")
		b.Logf("size %d MiB: clamd INSTREAM %.1f MB/s (RSS +%.1f MiB), S3 PUT %.1f MB/s (RSS +%.1f MiB), "+
			"pipeline %.1f MB/s (RSS +%.1f MiB) = %.2f x the slower side",
			size>>20, clamdRate, clamdRSS/(1<<20), s3Rate, s3RSS/(1<<20), pipeRate, pipeRSS/(1<<20),
			pipeRate/min(clamdRate, s3Rate))
	}
}

// measurePhase runs phase and returns its throughput in MB/s and how far the process's
// peak RSS rose above its RSS at the start, in bytes. The kernel's peak is reset first
// (clear_refs 5), so each phase is measured on its own.
func measurePhase(b *testing.B, size int64, phase func()) (mbPerSec, rssGrowth float64) {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset peak RSS (%v); growth is measured from the process's peak so far", err)
	}
	base := procStatus(b, "VmRSS")
	start := time.Now()
	phase()
	elapsed := time.Since(start)
	return float64(size) / elapsed.Seconds() / 1e6, float64(procStatus(b, "VmHWM") - base)
}

// procStatus reads a "kB" field of /proc/self/status, in bytes.
func procStatus(b *testing.B, field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if ok && name == field {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}
