// Package jsontest holds what tests of JSON nodes share: a buffer a node's
// goroutines and the test can both use, and comparisons of JSON lines that
// ignore key order and spacing.
package jsontest

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Buffer is a bytes.Buffer that a writer goroutine and the test can
// share.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Value decodes one JSON text into the generic form used for
// comparisons, so that key order and spacing do not matter.
func Value(t testing.TB, text string) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(text), &v), "not JSON: %s", text)
	return v
}

// bodyType returns the body's type of a decoded envelope, or "".
func bodyType(v any) string {
	env, _ := v.(map[string]any)
	body, _ := env["body"].(map[string]any)
	s, _ := body["type"].(string)
	return s
}

// AssertHasLine checks that one of the output lines equals want as a JSON
// value. When none does, it compares want with the first line whose body
// has the same type, so the failure shows the difference.
func AssertHasLine(t testing.TB, want string, lines []string) {
	t.Helper()
	w := Value(t, want)
	var sameType []any
	for _, line := range lines {
		var g any
		if json.Unmarshal([]byte(line), &g) != nil {
			continue
		}
		if assert.ObjectsAreEqual(w, g) {
			return
		}
		if bodyType(g) == bodyType(w) {
			sameType = append(sameType, g)
		}
	}
	if len(sameType) > 0 {
		assert.Equal(t, w, sameType[0], "no output line equals %s; this one has the same type", want)
		return
	}
	assert.Fail(t, "expected line missing", "no output line equals %s\noutput:\n%s", want, strings.Join(lines, "\n"))
}
