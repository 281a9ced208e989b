package tcp

import "context"

func contextWithDeadline() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), deadline)
}

// again starts a new connection to the same run of the peer, as most
// tests of the queue need.
func (q *queue) again() int {
	gen, _ := q.rewind(incarnation{})
	return gen
}
