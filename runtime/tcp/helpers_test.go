package tcp

import "context"

func contextWithDeadline() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), deadline)
}
