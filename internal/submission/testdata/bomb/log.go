package skeleton

const (
	s0  = "0123456789abcdef"
	s1  = s0 + s0
	s2  = s1 + s1
	s3  = s2 + s2
	s4  = s3 + s3
	s5  = s4 + s4
	s6  = s5 + s5
	s7  = s6 + s6
	s8  = s7 + s7
	s9  = s8 + s8
	s10 = s9 + s9
	s11 = s10 + s10
	s12 = s11 + s11
	s40 = s12 + s12 + s12 + s12
)

const bombLen = len(s40)

const greeting = "hello, " + "world"
