package sim

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A Schedule fixes the order in which the network delivers: each delivery
// takes the oldest message in flight, except where a Delay says to take a
// younger one. A schedule is how a run is named apart from its seed, so
// that a failing order can be replayed, shrunk to the few delays that
// matter, and explored systematically (see Explore).
type Schedule struct {
	Delays []Delay // by delivery, in order
	// Reorder lets a delivery take any message in flight; without it,
	// links keep order and a delivery takes the oldest message of a link.
	Reorder bool
	cursor  int // the first delay not yet passed, while a run plays it
}

// A Delay makes delivery At (counted from 1 over the whole run) take, of
// the messages it may take, the one with Rank older ones before it,
// instead of the oldest: those Rank messages wait. Without Reorder, the
// messages a delivery may take are the oldest of each link.
type Delay struct {
	At, Rank int
}

// Canonical is the schedule without delays: every delivery takes the
// oldest message in flight.
func Canonical() *Schedule { return &Schedule{} }

// next returns the rank delivery at takes.
func (s *Schedule) next(at int) int {
	for s.cursor < len(s.Delays) && s.Delays[s.cursor].At < at {
		s.cursor++
	}
	if s.cursor < len(s.Delays) && s.Delays[s.cursor].At == at {
		return s.Delays[s.cursor].Rank
	}
	return 0
}

// Cost is how many times a message was made to wait: the sum of the ranks.
func (s *Schedule) Cost() int {
	n := 0
	for _, d := range s.Delays {
		n += d.Rank
	}
	return n
}

// String writes the schedule as ParseSchedule reads it: "at:rank" pairs,
// comma-separated, after "reorder/" when links need not keep order; the
// canonical schedule is "fifo".
func (s *Schedule) String() string {
	prefix := ""
	if s.Reorder {
		prefix = "reorder/"
	}
	if len(s.Delays) == 0 {
		return prefix + "fifo"
	}
	parts := make([]string, len(s.Delays))
	for i, d := range s.Delays {
		parts[i] = fmt.Sprintf("%d:%d", d.At, d.Rank)
	}
	return prefix + strings.Join(parts, ",")
}

// ParseSchedule reads a schedule written by String.
func ParseSchedule(text string) (*Schedule, error) {
	text = strings.TrimSpace(text)
	body, reorder := strings.CutPrefix(text, "reorder/")
	s, err := parseDelays(body)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", text, err)
	}
	s.Reorder = reorder
	return s, nil
}

func parseDelays(text string) (*Schedule, error) {
	if text == "fifo" {
		return Canonical(), nil
	}
	if text == "" {
		return nil, errors.New(`an empty schedule: write "fifo" for the oldest message first every time, or delays as at:rank pairs such as 12:1,30:2`)
	}
	s := &Schedule{}
	for part := range strings.SplitSeq(text, ",") {
		at, rank, ok := strings.Cut(strings.TrimSpace(part), ":")
		a, err1 := strconv.Atoi(at)
		r, err2 := strconv.Atoi(rank)
		if !ok || err1 != nil || err2 != nil || a < 1 || r < 1 {
			return nil, fmt.Errorf("%q is not a delay: want at:rank, a delivery number and how many older messages it overtakes, both at least 1", part)
		}
		if n := len(s.Delays); n > 0 && s.Delays[n-1].At >= a {
			return nil, errors.New("deliveries must be named in increasing order")
		}
		s.Delays = append(s.Delays, Delay{a, r})
	}
	return s, nil
}

// fromRanks is the schedule of a run whose deliveries took these ranks.
func fromRanks(ranks []int, reorder bool) *Schedule {
	s := &Schedule{Reorder: reorder}
	for i, r := range ranks {
		if r > 0 {
			s.Delays = append(s.Delays, Delay{i + 1, r})
		}
	}
	return s
}

// Without returns the schedule without its delays at the indices in drop.
func (s *Schedule) Without(drop ...int) *Schedule {
	out := &Schedule{Reorder: s.Reorder}
	for i, d := range s.Delays {
		if !slices.Contains(drop, i) {
			out.Delays = append(out.Delays, d)
		}
	}
	return out
}

// Shrink returns a smallest schedule it finds that still fails, starting
// from s, which fails. fails plays a schedule and reports whether the run
// fails; Shrink calls it at most budget times. It first drops delays in
// halves, then one at a time (delta debugging, Zeller 2002), then lowers
// the ranks left, so that what remains are delays each of which the
// failure needs.
func Shrink(s *Schedule, budget int, fails func(*Schedule) bool) *Schedule {
	try := func(c *Schedule) bool {
		if budget <= 0 {
			return false
		}
		budget--
		return fails(c)
	}
	best := s
	// Remove chunks, halving their size until single delays.
	for chunk := max(len(best.Delays)/2, 1); chunk >= 1 && len(best.Delays) > 0; {
		removed := false
		for start := 0; start < len(best.Delays); {
			var drop []int
			for i := start; i < min(start+chunk, len(best.Delays)); i++ {
				drop = append(drop, i)
			}
			if c := best.Without(drop...); try(c) {
				best, removed = c, true
				continue // the same start now names the next delays
			}
			start += chunk
		}
		if !removed {
			if chunk == 1 {
				break
			}
			chunk /= 2
		}
	}
	// Lower each rank as far as the failure allows.
	for i := range best.Delays {
		for best.Delays[i].Rank > 1 {
			c := &Schedule{Delays: slices.Clone(best.Delays), Reorder: best.Reorder}
			c.Delays[i].Rank--
			if !try(c) {
				break
			}
			best = c
		}
	}
	return &Schedule{Delays: best.Delays, Reorder: best.Reorder}
}

// Explore lists the schedules a bounded systematic search plays: every
// schedule whose delays fall in the first horizon deliveries and cost at
// most bound in all (delay bounding, Emmi, Qadeer and Rakamarić, POPL
// 2011), fewest delays first. Bound 1 is one message overtaken once at
// each delivery in turn; bound 2 adds pairs of those and single messages
// overtaken twice.
func Explore(horizon, bound int) []*Schedule {
	var out []*Schedule
	var walk func(from, left int, cur []Delay)
	walk = func(from, left int, cur []Delay) {
		if len(cur) > 0 {
			out = append(out, &Schedule{Delays: slices.Clone(cur)})
		}
		for at := from; at <= horizon; at++ {
			for r := 1; r <= left; r++ {
				walk(at+1, left-r, append(cur, Delay{at, r}))
			}
		}
	}
	walk(1, bound, nil)
	slices.SortStableFunc(out, func(a, b *Schedule) int { return a.Cost() - b.Cost() })
	return append([]*Schedule{Canonical()}, out...)
}
