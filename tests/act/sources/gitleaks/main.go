// A stand-in for gitleaks v8.24.3's `detect` over git history; README.md says what of the
// real program it follows and where.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

type rule struct {
	id         string
	pattern    *regexp.Regexp
	minEntropy float64
}

// config/gitleaks.toml: aws-access-token (lines 160-163), private-key (line 2717).
var rules = []rule{
	{"aws-access-token", regexp.MustCompile(`\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b`), 3},
	{"private-key", regexp.MustCompile(`(?i)(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)`), 0},
}

type finding struct {
	rule, file, commit, secret string
	line                       int
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

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "Error: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	args := os.Args[1:]
	if len(args) == 0 || args[0] != "detect" {
		fail("this stand-in knows only `detect`")
	}
	flags := map[string]string{"exit-code": "1", "source": ".", "redact": "0"}
	valued := map[string]bool{"config": true, "exit-code": true, "report-path": true,
		"report-format": true, "log-opts": true, "source": true, "log-level": true}
	for _, arg := range args[1:] {
		switch {
		case arg == "-v" || arg == "--verbose" || arg == "--no-banner":
			flags["verbose"] = "true"
		case arg == "--redact":
			flags["redact"] = "100"
		case strings.HasPrefix(arg, "--"):
			name, value, has := strings.Cut(arg[2:], "=")
			if !valued[name] && name != "redact" {
				fail("unknown flag: --%s", name)
			}
			if !has {
				fail("flag needs an argument: --%s (the workflow passes --flag=value)", name)
			}
			flags[name] = value
		default:
			fail("unknown command %q for \"gitleaks detect\"", arg)
		}
	}
	exitCode, err := strconv.Atoi(flags["exit-code"])
	if err != nil {
		fail("invalid argument %q for \"--exit-code\"", flags["exit-code"])
	}
	config := flags["config"]
	if config == "" {
		config = os.Getenv("GITLEAKS_CONFIG")
	}
	if config != "" {
		if _, err := os.ReadFile(config); err != nil {
			fmt.Fprintf(os.Stderr, "FTL unable to load gitleaks config from %s: %v\n", config, err)
			os.Exit(1)
		}
	}
	gitArgs := []string{"-C", filepath.Clean(flags["source"]), "log", "-p", "-U0"}
	if flags["log-opts"] != "" {
		gitArgs = append(gitArgs, strings.Split(flags["log-opts"], " ")...)
	} else {
		gitArgs = append(gitArgs, "--full-history", "--all")
	}
	fmt.Fprintf(os.Stderr, "executing: git %s\n", strings.Join(gitArgs, " "))
	out, err := exec.Command("git", gitArgs...).Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FTL git log failed: %v\n", err)
		os.Exit(1)
	}
	var found []finding
	commits, commit, file, line := 0, "", "", 0
	scanner := bufio.NewScanner(strings.NewReader(string(out)))
	scanner.Buffer(make([]byte, 1<<20), 1<<24)
	hunk := regexp.MustCompile(`^@@ -\d+(?:,\d+)? \+(\d+)`)
	for scanner.Scan() {
		text := scanner.Text()
		switch {
		case strings.HasPrefix(text, "commit "):
			commit, commits = strings.Fields(text)[1], commits+1
		case strings.HasPrefix(text, "+++ "):
			file = strings.TrimPrefix(strings.TrimPrefix(text, "+++ "), "b/")
		case hunk.MatchString(text):
			line, _ = strconv.Atoi(hunk.FindStringSubmatch(text)[1])
		case strings.HasPrefix(text, "+"):
			for _, r := range rules {
				if m := r.pattern.FindStringSubmatch(text[1:]); m != nil && entropy(m[1]) >= r.minEntropy {
					found = append(found, finding{r.id, file, commit, m[1], line})
				}
			}
			line++
		}
	}
	fmt.Fprintf(os.Stderr, "INF %d commits scanned.\n", commits)
	results := []map[string]interface{}{}
	for _, f := range found {
		secret := f.secret
		if flags["redact"] != "0" {
			secret = "REDACTED"
		}
		if flags["verbose"] == "true" {
			fmt.Printf("Finding:     %s\nRuleID:      %s\nFile:        %s\nLine:        %d\nCommit:      %s\n\n",
				secret, f.rule, f.file, f.line, f.commit)
		}
		results = append(results, map[string]interface{}{
			"ruleId":  f.rule,
			"message": map[string]string{"text": f.rule + " has detected secret for file " + f.file + "."},
			"locations": []interface{}{map[string]interface{}{"physicalLocation": map[string]interface{}{
				"artifactLocation": map[string]string{"uri": f.file},
				"region":           map[string]interface{}{"startLine": f.line, "snippet": map[string]string{"text": secret}},
			}}},
			"partialFingerprints": map[string]string{"commitSha": f.commit},
		})
	}
	if path := flags["report-path"]; path != "" {
		if flags["report-format"] != "sarif" {
			fail("this stand-in writes only --report-format=sarif")
		}
		report := map[string]interface{}{
			"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
			"runs": []interface{}{map[string]interface{}{
				"tool":    map[string]interface{}{"driver": map[string]string{"name": "gitleaks"}},
				"results": results,
			}},
		}
		data, _ := json.MarshalIndent(report, "", " ")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			fail("%v", err)
		}
	}
	if len(found) > 0 {
		fmt.Fprintf(os.Stderr, "WRN leaks found: %d\n", len(found))
		os.Exit(exitCode)
	}
	fmt.Fprintln(os.Stderr, "INF no leaks found")
}
