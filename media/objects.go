package media

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3API is the slice of the aws-sdk-go-v2 S3 client the object store uses.
type S3API interface {
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, opts ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
}

// ObjectStore keeps upload bytes in one private S3 bucket.
type ObjectStore struct {
	s3     S3API
	bucket string
}

// NewObjectStore returns an ObjectStore on bucket, reached through client.
func NewObjectStore(client S3API, bucket string) *ObjectStore {
	return &ObjectStore{s3: client, bucket: bucket}
}

// Ping reports whether the bucket exists and the credentials may reach it. It returns
// a wrapped SDK error otherwise.
func (o *ObjectStore) Ping(ctx context.Context) error {
	if _, err := o.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(o.bucket)}); err != nil {
		return fmt.Errorf("head bucket %q: %w", o.bucket, err)
	}
	return nil
}
