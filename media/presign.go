package media

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Presigned URLs: SigV4 allows at most a week; links are meant to be followed at once.
const (
	DefaultPresignTTL = 5 * time.Minute
	maxPresignTTL     = 7 * 24 * time.Hour
)

// ErrNoPresigner means the ObjectStore was built without a Presigner (and its client is
// not an *s3.Client): a wiring mistake.
var ErrNoPresigner = errors.New("media: object store has no presigner")

// PresignGet returns a short-lived GET URL for key that makes S3 answer with
// Content-Disposition: attachment (RFC 6266, filename sanitized) and contentType, so a
// browser downloads the file rather than rendering it. A ttl of 0 means
// DefaultPresignTTL; ttl is capped at seven days. It does not check that the object
// exists; callers authorize access first. It returns ErrNoPresigner or ErrStorage
// (wrapped).
func (o *ObjectStore) PresignGet(ctx context.Context, key, filename, contentType string, ttl time.Duration) (string, error) {
	if o.cfg.Presigner == nil {
		return "", ErrNoPresigner
	}
	if ttl <= 0 {
		ttl = DefaultPresignTTL
	}
	if contentType == "" {
		contentType = TypeOctetStream
	}
	req, err := o.cfg.Presigner.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     aws.String(o.bucket),
		Key:                        aws.String(key),
		ResponseContentDisposition: aws.String(ContentDisposition(filename)),
		ResponseContentType:        aws.String(contentType),
	}, s3.WithPresignExpires(min(ttl, maxPresignTTL)))
	if err != nil {
		return "", fmt.Errorf("%w: presign get %q: %w", ErrStorage, key, err)
	}
	return req.URL, nil
}
