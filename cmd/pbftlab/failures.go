package main

import "strings"

// failureText clips a failing spec's message for the terminal. What went
// wrong, at which replica, and the command that reproduces it stay whole:
// they are what a student acts on. Only the transcript after them, which
// can run to thousands of lines, is cut to its last lines; reports/ keeps
// the whole message.
func failureText(msg string, lines int) string {
	head, rest, ok := strings.Cut(msg, "\ntranscript")
	if !ok {
		return tail(msg, lines)
	}
	title, body, _ := strings.Cut(rest, "\n")
	return head + "\ntranscript" + title + "\n" + tail(body, lines)
}
