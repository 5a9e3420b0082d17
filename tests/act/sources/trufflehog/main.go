// A stand-in for trufflehog v3.97.0's `git` scan; README.md says what of the real program it
// follows and where.
package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// pkg/detectors/aws/access_keys/accesskey.go line 78 and pkg/detectors/aws/common.go
// lines 6-7 and 16.
var (
	idPat     = regexp.MustCompile(`\b((?:AKIA|ABIA|ACCA)[A-Z0-9]{16})\b`)
	secretPat = regexp.MustCompile(`(?:[^A-Za-z0-9+/]|\A)([A-Za-z0-9+/]{40})(?:[^A-Za-z0-9+/]|\z)`)
)

const (
	requiredIDEntropy     = 3.0
	requiredSecretEntropy = 4.25
	foundWithFail         = 183 // main.go lines 718-721
)

// chunk is what one commit adds to one file: its added lines, by line number.
type chunk struct {
	commit, file string
	lines        []int
	text         []string
}

func entropy(text string) float64 {
	counts := map[rune]float64{}
	for _, r := range text {
		counts[r]++
	}
	total, sum := float64(len([]rune(text))), 0.0
	for _, n := range counts {
		p := n / total
		sum -= p * math.Log2(p)
	}
	return sum
}

func fatal(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "trufflehog: error: "+format+"\n", args...)
	os.Exit(1)
}

func git(repo string, args ...string) string {
	out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).Output()
	if err != nil {
		fatal("git %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

func main() {
	args := os.Args[1:]
	if len(args) == 0 || args[0] != "git" {
		fatal("this stand-in knows only the `git` command")
	}
	flags := map[string]string{"results": "verified,unverified,unknown"}
	bools := map[string]bool{"fail": true, "no-update": true, "github-actions": true}
	valued := map[string]bool{"since-commit": true, "branch": true, "results": true, "exclude-paths": true}
	uri := ""
	for i := 1; i < len(args); i++ {
		name, value, has := strings.Cut(strings.TrimPrefix(args[i], "--"), "=")
		switch {
		case !strings.HasPrefix(args[i], "-") && uri == "":
			uri = args[i]
		case bools[name] && !has:
			flags[name] = "true"
		case valued[name]:
			if !has {
				if i++; i >= len(args) {
					fatal("expected argument for flag '--%s'", name)
				}
				value = args[i]
			}
			flags[name] = value
		default:
			fatal("unknown long flag '%s'", args[i]) // kingpin.MustParse: exit 1
		}
	}
	repo := strings.TrimPrefix(uri, "file://")
	if !strings.HasPrefix(uri, "file://") {
		fatal("this stand-in scans only a file:// repository, not %q", uri)
	}
	results := map[string]bool{}
	for _, value := range strings.Split(strings.ToLower(flags["results"]), ",") {
		switch value {
		case "verified", "unknown", "unverified", "filtered_unverified":
			results[value] = true
		default:
			fatal("failed to configure results flag: invalid value '%s'", value)
		}
	}
	var excludes []*regexp.Regexp
	if path := flags["exclude-paths"]; path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			fatal("unable to open filter file %s: %v", path, err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if trimmed := strings.TrimSpace(line); trimmed != "" && !strings.HasPrefix(trimmed, "#") {
				rule, err := regexp.Compile(line)
				if err != nil {
					fatal("can not compile regular expression: %s", line)
				}
				excludes = append(excludes, rule)
			}
		}
	}
	base, head := flags["since-commit"], flags["branch"]
	resolve := func(ref string) string { return strings.TrimSpace(git(repo, "rev-parse", ref+"^{commit}")) }
	if base != "" {
		base = resolve(base)
	}
	if head != "" {
		head = resolve(head)
	}
	if base != "" && head != "" {
		base = strings.TrimSpace(git(repo, "merge-base", head, base)) // normalizeConfig
	}
	logArgs := []string{"log", "--patch", "--full-history", "--date=iso-strict", "--pretty=fuller", "--notes"}
	if base == "" {
		logArgs = append(logArgs, "--diff-filter=AM")
	}
	if head != "" {
		logArgs = append(logArgs, head)
	} else {
		logArgs = append(logArgs, "--all")
	}
	chunks, scanned := parse(git(repo, logArgs...), base)
	found := 0
	for _, c := range chunks {
		excluded := false
		for _, rule := range excludes {
			excluded = excluded || rule.MatchString(c.file)
		}
		if excluded {
			continue
		}
		// No network here, so no verification: a result is `unknown` (its verification error).
		for _, line := range awsResults(c) {
			if !results["unknown"] {
				continue
			}
			found++
			if flags["github-actions"] == "true" {
				fmt.Printf("::warning file=%s,line=%d,endLine=%d::Found unverified AWS result 🐷🔑\n", c.file, line, line)
			} else {
				fmt.Printf("Found unverified result 🐷🔑❓\nDetector Type: AWS\nFile: %s\nLine: %d\nCommit: %s\n\n", c.file, line, c.commit)
			}
		}
	}
	fmt.Fprintf(os.Stderr, "finished scanning\tcommits=%d\tunverified_secrets=%d\n", scanned, found)
	if found > 0 && flags["fail"] == "true" {
		os.Exit(foundWithFail)
	}
}

// parse reads `git log --patch` up to the base commit (pkg/sources/git/git.go ScanCommits).
func parse(log, base string) ([]*chunk, int) {
	var chunks []*chunk
	var current *chunk
	commit, commits, line := "", 0, 0
	hunk := regexp.MustCompile(`^@@ -\d+(?:,\d+)? \+(\d+)`)
	scanner := bufio.NewScanner(strings.NewReader(log))
	scanner.Buffer(make([]byte, 1<<20), 1<<24)
	for scanner.Scan() {
		text := scanner.Text()
		switch {
		case strings.HasPrefix(text, "commit "):
			commit = strings.Fields(text)[1]
			if base != "" && commit == base {
				return chunks, commits
			}
			commits++
		case strings.HasPrefix(text, "+++ "):
			current = nil
			if file := strings.TrimPrefix(text, "+++ "); file != "/dev/null" {
				current = &chunk{commit: commit, file: strings.TrimPrefix(file, "b/")}
				chunks = append(chunks, current)
			}
		case hunk.MatchString(text):
			line, _ = strconv.Atoi(hunk.FindStringSubmatch(text)[1])
		case strings.HasPrefix(text, "+") && current != nil:
			current.lines = append(current.lines, line)
			current.text = append(current.text, text[1:])
			line++
		case strings.HasPrefix(text, " "):
			line++
		}
	}
	return chunks, commits
}

// awsResults: every key id with a secret in the same chunk, each above its entropy
// (accesskey.go FromData, lines 118-235); the line of the key id.
func awsResults(c *chunk) []int {
	data := strings.Join(c.text, "\n")
	secret := false
	for _, m := range secretPat.FindAllStringSubmatch(data, -1) {
		secret = secret || entropy(m[1]) >= requiredSecretEntropy
	}
	if !secret {
		return nil
	}
	var lines []int
	seen := map[string]bool{}
	for i, text := range c.text {
		for _, m := range idPat.FindAllStringSubmatch(text, -1) {
			if !seen[m[1]] && entropy(m[1]) >= requiredIDEntropy {
				seen[m[1]] = true
				lines = append(lines, c.lines[i])
			}
		}
	}
	return lines
}
