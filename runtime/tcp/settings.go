package tcp

import (
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"pbftlab/lab"
)

// Settings are what the replicas of one cluster must agree on. Replicas
// started with different ones run together without a word and diverge: one
// with other starting balances executes the same requests to other
// results, one with another checkpoint interval takes checkpoints that
// never become stable, one with another number of replicas counts other
// quorums. So a replica says its settings when it connects to another, and
// the two refuse to connect when they differ (see doc.go).
type Settings struct {
	N                  int // replicas, as the peers file lists them
	CheckpointInterval int // K
	Window             int // L
	BatchSize          int
	Balances           map[string]int // starting balances
	// Manual says votes are typed. One replica voting by itself among
	// replicas whose votes are typed votes before anyone types, and its
	// view-change timer runs where theirs are off.
	Manual bool
}

// ReplicaSettings returns the settings of a replica built with cfg, its
// zero fields at their defaults, in a cluster of n replicas that start
// with balances.
func ReplicaSettings(n int, cfg lab.Config, balances map[string]int) Settings {
	cfg = cfg.WithDefaults()
	return Settings{
		N:                  n,
		CheckpointInterval: cfg.CheckpointInterval,
		Window:             cfg.Window,
		BatchSize:          cfg.BatchSize,
		Balances:           maps.Clone(balances),
		Manual:             cfg.Manual,
	}
}

// setting is one of the Settings as the greeting carries it: a name, as a
// note says it, and a canonical value.
type setting struct{ name, value string }

// The settings' names, and the flag that sets each, for the note that
// tells a person what to change.
const (
	settingReplicas = "replicas"
	settingInterval = "checkpoint interval"
	settingWindow   = "window"
	settingBatch    = "batch size"
	settingBalances = "starting balances"
	settingVotes    = "votes"
)

var settingFlags = map[string]string{
	settingReplicas: "peers file (--peers)",
	settingInterval: "--checkpoint-interval",
	settingWindow:   "--window",
	settingBatch:    "--batch",
	settingBalances: "--balances",
	settingVotes:    "--manual setting",
}

// Bounds on what a greeting's settings may hold, so that a greeting stays
// small whatever the balances: a value longer than maxSettingValue is
// described by its digest.
const (
	maxSettings     = 16
	maxSettingValue = 160
)

// describe lists s in a fixed order, each value in one canonical form:
// two replicas have the same settings if and only if the lists are equal.
func (s Settings) describe() []setting {
	return []setting{
		{settingReplicas, strconv.Itoa(s.N)},
		{settingInterval, strconv.Itoa(s.CheckpointInterval)},
		{settingWindow, strconv.Itoa(s.Window)},
		{settingBatch, strconv.Itoa(s.BatchSize)},
		{settingBalances, describeBalances(s.Balances)},
		{settingVotes, describeVotes(s.Manual)},
	}
}

// describeVotes names the vote mode as a note says it.
func describeVotes(manual bool) string {
	if manual {
		return "typed (--manual)"
	}
	return "automatic"
}

// describeBalances writes balances as "alice=100,bob=50", accounts in
// order. An account at 0 is left out, as an account not named starts at 0
// anyway; "none" is no money at all. A description longer than
// maxSettingValue becomes a count and a digest of it.
func describeBalances(balances map[string]int) string {
	var parts []string
	for _, acct := range slices.Sorted(maps.Keys(balances)) {
		if balances[acct] == 0 {
			continue
		}
		name := acct
		if strings.ContainsAny(acct, `,="`) || strings.ContainsFunc(acct, func(r rune) bool { return !unicode.IsPrint(r) }) {
			name = strconv.Quote(acct)
		}
		parts = append(parts, name+"="+strconv.Itoa(balances[acct]))
	}
	if len(parts) == 0 {
		return "none"
	}
	all := strings.Join(parts, ",")
	if len(all) <= maxSettingValue {
		return all
	}
	sum := sha256.Sum256([]byte(all))
	return fmt.Sprintf("%d accounts, digest %x", len(parts), sum[:6])
}

// encodeSettings is the greeting's form of a list of settings: their
// count, then each name and value behind its length in one byte.
func encodeSettings(list []setting) []byte {
	b := []byte{byte(len(list))}
	for _, s := range list {
		b = append(b, byte(len(s.name)))
		b = append(b, s.name...)
		b = append(b, byte(len(s.value)))
		b = append(b, s.value...)
	}
	return b
}

var errSettings = errors.New("malformed settings")

// decodeSettings reads encodeSettings's form from the front of b and
// returns the settings and what follows them.
func decodeSettings(b []byte) ([]setting, []byte, error) {
	if len(b) < 1 || int(b[0]) > maxSettings {
		return nil, nil, errSettings
	}
	count := int(b[0])
	b = b[1:]
	list := make([]setting, 0, count)
	field := func() (string, bool) {
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return "", false
		}
		s := string(b[1 : 1+int(b[0])])
		b = b[1+int(b[0]):]
		return s, true
	}
	for range count {
		name, ok1 := field()
		value, ok2 := field()
		if !ok1 || !ok2 {
			return nil, nil, errSettings
		}
		list = append(list, setting{name, value})
	}
	return list, b, nil
}

// unset is the value of a setting that one side does not carry at all.
const unset = "(none given)"

// compareSettings returns the first setting whose value differs between
// ours and theirs, if any.
func compareSettings(ours, theirs []setting) (name, our, their string, differ bool) {
	value := func(list []setting, name string) string {
		for _, s := range list {
			if s.name == name {
				return s.value
			}
		}
		return unset
	}
	for _, s := range ours {
		if v := value(theirs, s.name); v != s.value {
			return s.name, s.value, v, true
		}
	}
	for _, s := range theirs {
		if v := value(ours, s.name); v != s.value {
			return s.name, v, s.value, true
		}
	}
	return "", "", "", false
}

// settingsError is the error of a link two replicas refused because they
// were started with different settings. Both sides say it the same way.
type settingsError struct {
	peer              lab.ID
	name, ours, their string
}

func (e *settingsError) Error() string {
	what := e.name + " " + e.their
	if e.name == settingReplicas {
		what = e.their + " replicas"
	}
	flag := cmp.Or(settingFlags[e.name], "settings")
	return fmt.Sprintf("%s runs with %s, this replica with %s: start every process with the same %s (the two do not connect until then)", e.peer, what, e.ours, flag)
}

// mismatch returns the settingsError of peer, whose settings are theirs,
// or nil when they are the same as ours.
func mismatch(peer lab.ID, ours, theirs []setting) error {
	name, our, their, differ := compareSettings(ours, theirs)
	if !differ {
		return nil
	}
	return &settingsError{peer: peer, name: name, ours: our, their: their}
}
