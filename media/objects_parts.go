package media

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Part is one uploaded part of a multipart upload, as a resumable upload's state records
// it between requests.
type Part struct {
	Number int32
	ETag   string
	CRC32  string
	Size   int64
}

// PartSize is the size of every part but the last, in bytes.
func (o *ObjectStore) PartSize() int { return o.cfg.PartSize }

// CreateMultipart starts a multipart upload at key and returns its id, for uploads that
// span several requests (tus). It returns ErrStorage (wrapped).
func (o *ObjectStore) CreateMultipart(ctx context.Context, key string, opts PutOptions) (string, error) {
	out, err := o.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(o.bucket), Key: aws.String(key),
		ContentType: optional(opts.ContentType), ContentDisposition: optional(opts.ContentDisposition),
		Metadata: opts.Metadata, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return "", storageError("create multipart upload", key, err)
	}
	return aws.ToString(out.UploadId), nil
}

// UploadPart sends the bytes of body as part number of the multipart upload; body is
// left as it was. Sending a number again replaces that part. It returns ErrStorage
// (wrapped).
func (o *ObjectStore) UploadPart(ctx context.Context, key, uploadID string, number int32, body *Chunks) (Part, error) {
	out, err := o.s3.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(o.bucket), Key: aws.String(key), UploadId: aws.String(uploadID),
		PartNumber: aws.Int32(number), Body: body.Reader(), ContentLength: aws.Int64(int64(body.Len())),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return Part{}, storageError(fmt.Sprintf("upload part %d", number), key, err)
	}
	return Part{Number: number, ETag: aws.ToString(out.ETag), CRC32: aws.ToString(out.ChecksumCRC32), Size: int64(body.Len())}, nil
}

// CompleteMultipart turns the listed parts into the object at key; parts not listed are
// dropped. It returns ErrStorage (wrapped).
func (o *ObjectStore) CompleteMultipart(ctx context.Context, key, uploadID string, parts []Part) error {
	done := make([]types.CompletedPart, 0, len(parts))
	for _, p := range parts {
		done = append(done, types.CompletedPart{PartNumber: aws.Int32(p.Number), ETag: aws.String(p.ETag), ChecksumCRC32: optional(p.CRC32)})
	}
	slices.SortFunc(done, func(a, b types.CompletedPart) int {
		return cmp.Compare(aws.ToInt32(a.PartNumber), aws.ToInt32(b.PartNumber))
	})
	_, err := o.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(o.bucket), Key: aws.String(key), UploadId: aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if err != nil {
		return storageError("complete multipart upload", key, err)
	}
	return nil
}

// AbortMultipart drops a multipart upload and its parts; an upload already gone counts as
// dropped. It returns ErrStorage (wrapped).
func (o *ObjectStore) AbortMultipart(ctx context.Context, key, uploadID string) error {
	_, err := o.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(o.bucket), Key: aws.String(key), UploadId: aws.String(uploadID),
	})
	var gone *types.NoSuchUpload
	if err != nil && !errors.As(err, &gone) {
		return storageError("abort multipart upload", key, err)
	}
	return nil
}
