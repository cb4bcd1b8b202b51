package market

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// SecretSealer encrypts secrets at rest (TOTP secrets) with AES-256-GCM. The
// additional data binds a sealed secret to its owner, so a row copied to another user
// does not open.
type SecretSealer struct {
	aead cipher.AEAD
}

// NewSecretSealer returns a sealer for a 32-byte key, or an error for another length.
func NewSecretSealer(key []byte) (*SecretSealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("the key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return &SecretSealer{aead: aead}, nil
}

// Seal returns nonce ‖ ciphertext ‖ tag of plain, bound to owner.
func (s *SecretSealer) Seal(plain []byte, owner string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, []byte(owner)), nil
}

// ErrSealBroken is returned when a sealed secret does not open: another key, another
// owner or altered bytes.
var ErrSealBroken = errors.New("market: sealed secret does not open")

// Open returns the plain secret of sealed for owner, or ErrSealBroken.
func (s *SecretSealer) Open(sealed []byte, owner string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, ErrSealBroken
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(owner))
	if err != nil {
		return nil, ErrSealBroken
	}
	return plain, nil
}
