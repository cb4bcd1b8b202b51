package media

import (
	"fmt"
	"log/slog"
	"slices"
)

// Kind says what an upload is for; it decides the size limit and the allowed content.
type Kind string

// The upload kinds of the marketplace.
const (
	KindAvatar      Kind = "avatar"
	KindGigImage    Kind = "gig_image"
	KindGigVideo    Kind = "gig_video"
	KindAttachment  Kind = "attachment"
	KindDeliverable Kind = "deliverable"
)

// Kinds lists every Kind, for validation and documentation.
func Kinds() []Kind {
	return []Kind{KindAvatar, KindGigImage, KindGigVideo, KindAttachment, KindDeliverable}
}

// ParseKind turns a wire value into a Kind. It returns ErrUnknownKind (wrapped) for any
// other string.
func ParseKind(s string) (Kind, error) {
	k := Kind(s)
	if !slices.Contains(Kinds(), k) {
		return "", fmt.Errorf("%w: %q", ErrUnknownKind, s)
	}
	return k, nil
}

// Sizes use decimal units, as the product table states them.
const (
	MB = 1000 * 1000
	GB = 1000 * MB
)

// Policy is what a kind accepts. Allowed holds sniffed media types (see Sniff); AnyType
// accepts every type, for deliverables, which clamd still scans.
type Policy struct {
	MaxSize int64
	Allowed []string
	AnyType bool
}

// Allows reports whether a sniffed media type may be stored under this policy.
func (p Policy) Allows(contentType string) bool {
	return p.AnyType || slices.Contains(p.Allowed, contentType)
}

// Image types a browser renders safely inline; SVG is deliberately absent (it runs script).
var imageTypes = []string{TypePNG, TypeJPEG, TypeGIF, TypeWebP, TypeAVIF}

var videoTypes = []string{TypeMP4, TypeWebM, TypeQuickTime}

var documentTypes = []string{
	TypePDF, TypeZip, TypeDOCX, TypeXLSX, TypePPTX, TypeODT, TypeODS, TypeODP,
	TypeOLE, TypeRTF, TypeText,
}

// DefaultPolicy returns the built-in policy of k, as the upload issue's table sets it.
// It returns ErrUnknownKind (wrapped) for an unknown kind.
func DefaultPolicy(k Kind) (Policy, error) {
	switch k {
	case KindAvatar:
		return Policy{MaxSize: 5 * MB, Allowed: imageTypes}, nil
	case KindGigImage:
		return Policy{MaxSize: 10 * MB, Allowed: imageTypes}, nil
	case KindGigVideo:
		return Policy{MaxSize: 500 * MB, Allowed: videoTypes}, nil
	case KindAttachment:
		allowed := slices.Concat(imageTypes, []string{TypeHEIC}, documentTypes, videoTypes,
			[]string{TypeMatroska, Type3GPP})
		return Policy{MaxSize: 100 * MB, Allowed: allowed}, nil
	case KindDeliverable:
		return Policy{MaxSize: 5 * GB, AnyType: true}, nil
	}
	return Policy{}, fmt.Errorf("%w: %q", ErrUnknownKind, k)
}

// Config tunes the upload pipeline. Its zero value is ready to use: every kind gets its
// DefaultPolicy and logs go to slog.Default().
type Config struct {
	// Policies overrides kinds' policies. A zero MaxSize keeps the default limit, a nil
	// Allowed keeps the default allow-list (AnyType is taken as given).
	Policies map[Kind]Policy
	// Logger receives security events (rejected uploads) and cleanup failures;
	// nil means slog.Default().
	Logger *slog.Logger
	// StreamBuffer is the bytes buffered between the request and each of clamd and S3,
	// so a momentarily slow side does not stall the other; 0 means 1 MiB.
	StreamBuffer int
	// ScanLimit is the largest file the scanner can judge; every kind's MaxSize is capped
	// to it, so an upload that could never be found clean is refused as too large before its
	// first byte instead of rejected after its last. 0 means DefaultScanLimit.
	ScanLimit int64
}

// DefaultScanLimit is the largest file libclamav scans: 2 GiB − 3 bytes. clamd caps its
// MaxFileSize there whatever its configuration says and answers a larger stream with
// Heuristics.Limits.Exceeded.MaxFileSize, so the 5 GB default of deliverables is
// effectively this much until ClamAV lifts that limit.
const DefaultScanLimit int64 = 2147483645

// Policy returns the effective policy of k: the default with cfg's override on top, its
// size capped to the scan limit. It returns ErrUnknownKind (wrapped) for an unknown kind.
func (c Config) Policy(k Kind) (Policy, error) {
	p, err := c.policy(k)
	if err != nil {
		return Policy{}, err
	}
	limit := c.ScanLimit
	if limit <= 0 {
		limit = DefaultScanLimit
	}
	p.MaxSize = min(p.MaxSize, limit)
	return p, nil
}

// policy is k's default with cfg's override on top, before the scan limit.
func (c Config) policy(k Kind) (Policy, error) {
	p, err := DefaultPolicy(k)
	if err != nil {
		return Policy{}, err
	}
	o, ok := c.Policies[k]
	if !ok {
		return p, nil
	}
	if o.MaxSize > 0 {
		p.MaxSize = o.MaxSize
	}
	if o.Allowed != nil {
		p.Allowed = o.Allowed
	}
	p.AnyType = o.AnyType || (o.Allowed == nil && p.AnyType)
	return p, nil
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

func (c Config) streamBuffer() int {
	if c.StreamBuffer <= 0 {
		return 1 << 20
	}
	return c.StreamBuffer
}
