package platform

import (
	"regexp"
	"strings"
)

// queryValue is a value in a URL's query or fragment.
var queryValue = regexp.MustCompile(`=[^&#;]*`)

// RedactURL returns s as an error, a plan or an event may show it: the
// user information of a URL (https://user:secret@host) is replaced by
// "***" and the values of its query and fragment parameters by "…", their
// names kept, since a URL copied from a console or a presigned one
// carries credentials there (X-Amz-Security-Token=..., X-Amz-Signature=...).
// Anything that is not a URL comes back unchanged. Callers that echo a URL
// the user gave must show RedactURL's form, never the URL itself.
func RedactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		auth := s[i+3:]
		end := len(auth)
		if j := strings.IndexAny(auth, "/?#"); j >= 0 {
			end = j
		}
		if at := strings.LastIndex(auth[:end], "@"); at >= 0 {
			s = s[:i+3] + "***@" + auth[at+1:]
		}
	}
	i := strings.IndexAny(s, "?#")
	if i < 0 {
		return s
	}
	return s[:i] + queryValue.ReplaceAllString(s[i:], "=…")
}
