package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/redis/go-redis/v9"
)

// newRedis builds the Redis client from REDIS_URL or, with REDIS_CLUSTER_ADDRS, a
// Redis Cluster client over those seed nodes with REDIS_URL's user, password and TLS.
// It does not connect: a Redis that is down shows in /readyz instead of stopping the hub.
func newRedis(cfg config) (redis.UniversalClient, error) {
	opts, err := redis.ParseURL(string(cfg.RedisURL))
	if err != nil {
		return nil, fmt.Errorf("config: REDIS_URL: %w", err)
	}
	if len(cfg.RedisClusterAddrs) == 0 {
		return redis.NewClient(opts), nil
	}
	return redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: cfg.RedisClusterAddrs, Username: opts.Username, Password: opts.Password,
		TLSConfig: opts.TLSConfig, DialTimeout: opts.DialTimeout,
	}), nil
}

// newS3 builds the S3 client for cfg; a custom endpoint serves S3-compatible stores.
// wrap, when not nil, wraps the SDK's HTTP client (in spans).
func newS3(ctx context.Context, cfg s3Config, wrap func(aws.HTTPClient) aws.HTTPClient) (*s3.Client, error) {
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.Region)}
	if cfg.AccessKey != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKey, string(cfg.SecretKey), "")))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3 config: %w", err)
	}
	if wrap != nil {
		awsCfg.HTTPClient = wrap(awsCfg.HTTPClient)
	}
	return s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	}), nil
}
