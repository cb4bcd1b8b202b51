package media

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// newObjectKey returns prefix + "/" + 128 random bits in hex: keys are the server's, never
// derived from client input, and cannot be guessed.
func newObjectKey(prefix string) string {
	return prefix + "/" + hex.EncodeToString(randomBytes(16))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails on supported platforms (crypto/rand panics instead)
	return b
}

// cleanKeyPrefix checks a server-chosen prefix such as "deliverables/order-42": ASCII
// letters, digits and "-_./" only, no empty, "." or ".." segments. An empty prefix means
// the kind's name. It returns ErrInvalidKey (wrapped).
func cleanKeyPrefix(prefix string, kind Kind) (string, error) {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return string(kind), nil
	}
	for _, seg := range strings.Split(prefix, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.Trim(seg, keyChars) != "" {
			return "", fmt.Errorf("%w: prefix %q", ErrInvalidKey, prefix)
		}
	}
	return prefix, nil
}

const keyChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
