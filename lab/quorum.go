package lab

// The quorum arithmetic lives here and nowhere else. PBFT tolerates f faulty
// replicas out of n = 3f+1; with n replicas it therefore tolerates
// f = (n-1)/3, and a quorum of 2f+1 replicas is large enough that any two
// quorums overlap in at least f+1 replicas, so at least one honest replica
// is in both.

// Faulty returns f, the number of Byzantine replicas a cluster of n tolerates.
func Faulty(n int) int {
	if n < 1 {
		return 0
	}
	return (n - 1) / 3
}

// Quorum returns the number of distinct replicas whose matching messages make
// a certificate: 2f+1 for a cluster of n = 3f+1. For sizes that are not of
// the form 3f+1 it returns the smallest quorum whose pairwise overlap still
// holds f+1 replicas, ceil((n+f+1)/2), which equals 2f+1 when n = 3f+1.
func Quorum(n int) int {
	f := Faulty(n)
	return (n + f + 2) / 2
}

// Weak returns f+1: enough matching answers that at least one came from an
// honest replica. A recovering replica trusts state that f+1 replicas report.
func Weak(n int) int { return Faulty(n) + 1 }

// Blocking reports whether count opposite votes make a quorum impossible:
// more than f replicas against leaves fewer than 2f+1 that could be for.
func Blocking(n, count int) bool { return count > n-Quorum(n) }
