package tcp

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"pbftlab/lab"
)

func keyring(t *testing.T, secret string) *Keyring {
	t.Helper()
	k, err := NewKeyring([]byte(secret))
	require.NoError(t, err)
	return k
}

func TestPairKeys(t *testing.T) {
	k := keyring(t, "secret")
	assert.Equal(t, k.pair(1, 2), k.pair(2, 1), "both ends of a pair derive the same key")
	assert.NotEqual(t, k.pair(1, 2), k.pair(1, 3), "each pair has its own key")
	assert.NotEqual(t, k.pair(lab.Client, 0), k.pair(lab.Client, 1))
	assert.NotEqual(t, k.pair(1, 2), keyring(t, "other").pair(1, 2), "another cluster key gives other pair keys")
	assert.Equal(t, k.pair(1, 2), keyring(t, "  secret\n").pair(1, 2), "white space around the secret does not count")
}

func TestKeyringFromFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "key")
	require.NoError(t, os.WriteFile(good, []byte("0123abcd\n"), 0o600))
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte(" \n"), 0o600))

	k, err := LoadKeyring(good)
	require.NoError(t, err)
	assert.Equal(t, keyring(t, "0123abcd").pair(0, 1), k.pair(0, 1))

	_, err = LoadKeyring(empty)
	assert.ErrorContains(t, err, "empty")
	_, err = LoadKeyring(filepath.Join(dir, "missing"))
	assert.Error(t, err)
}

// TestSealOpen checks that a receiver accepts exactly the frames its peer
// sealed for it on this connection, once each.
func TestSealOpen(t *testing.T) {
	keys := keyring(t, "cluster")
	var ours, other nonce
	ours[0], other[0] = 1, 2
	newPair := func() (*sealer, *opener) {
		key := keys.pair(1, 2)
		return &sealer{key: key, from: 1, to: 2, nonce: ours}, &opener{key: key, from: 1, to: 2, nonce: ours}
	}
	payload := []byte("PREPARE v0 n1 yes")
	for _, tc := range []struct {
		name   string
		frame  func(s *sealer) []byte
		accept bool
	}{
		{"a frame as sealed", func(s *sealer) []byte { return s.seal(payload) }, true},
		{"another cluster key", func(s *sealer) []byte {
			s.key = keyring(t, "intruder").pair(1, 2)
			return s.seal(payload)
		}, false},
		{"another pair's key", func(s *sealer) []byte {
			s.key = keys.pair(1, 3)
			return s.seal(payload)
		}, false},
		{"a changed message byte", func(s *sealer) []byte {
			f := s.seal(payload)
			f[counterSize] ^= 1
			return f
		}, false},
		{"a changed tag byte", func(s *sealer) []byte {
			f := s.seal(payload)
			f[len(f)-1] ^= 1
			return f
		}, false},
		{"a changed counter", func(s *sealer) []byte {
			f := s.seal(payload)
			f[counterSize-1]++
			return f
		}, false},
		{"sealed for another connection (its nonce)", func(s *sealer) []byte {
			s.nonce = other
			return s.seal(payload)
		}, false},
		{"claiming another sender", func(s *sealer) []byte {
			s.from = 3
			return s.seal(payload)
		}, false},
		{"sealed for another receiver", func(s *sealer) []byte {
			s.to = 0
			return s.seal(payload)
		}, false},
		{"too short to hold a tag", func(*sealer) []byte { return []byte("short") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, o := newPair()
			got, err := o.open(tc.frame(s))
			if tc.accept {
				require.NoError(t, err)
				assert.Equal(t, payload, got)
				return
			}
			assert.ErrorIs(t, err, ErrAuth)
			assert.Nil(t, got)
		})
	}
}

func TestSealOpenEmptyMessage(t *testing.T) {
	key := keyring(t, "cluster").pair(0, 1)
	s := &sealer{key: key, from: 0, to: 1}
	o := &opener{key: key, from: 0, to: 1}
	got, err := o.open(s.seal(nil))
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestOpenRejectsReplays(t *testing.T) {
	keys := keyring(t, "cluster")
	key := keys.pair(0, 1)
	s := &sealer{key: key, from: 0, to: 1}
	o := &opener{key: key, from: 0, to: 1}
	first, second := s.seal([]byte("a")), s.seal([]byte("b"))

	_, err := o.open(first)
	require.NoError(t, err)
	_, err = o.open(first)
	assert.ErrorIs(t, err, ErrAuth, "the same frame twice")
	_, err = o.open(second)
	require.NoError(t, err, "the next frame still goes through")
	_, err = o.open(first)
	assert.ErrorIs(t, err, ErrAuth, "an older frame after a newer one")
}
