package tus

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// ParseMetadata reads an Upload-Metadata header: comma-separated "key base64value" pairs,
// the value optional. It returns ErrInvalidMetadata (wrapped).
func ParseMetadata(header string) (map[string]string, error) {
	meta := map[string]string{}
	if strings.TrimSpace(header) == "" {
		return meta, nil
	}
	for _, pair := range strings.Split(header, ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(pair), " ")
		if key == "" || strings.ContainsAny(key, " \t") {
			return nil, fmt.Errorf("%w: key %q", ErrInvalidMetadata, key)
		}
		decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("%w: value of %q: %w", ErrInvalidMetadata, key, err)
		}
		meta[key] = string(decoded)
	}
	return meta, nil
}

// EncodeMetadata writes metadata as an Upload-Metadata header value (for HEAD responses).
func EncodeMetadata(meta map[string]string) string {
	pairs := make([]string, 0, len(meta))
	for k, v := range meta {
		pairs = append(pairs, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
	}
	return strings.Join(pairs, ",")
}
