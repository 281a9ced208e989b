package solution

func vote() bool { return true }
