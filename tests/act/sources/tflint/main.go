// A stand-in for tflint v0.64.0 with its bundled terraform ruleset v0.15.0 (preset
// "recommended"); README.md says what of the real program it follows and where.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// The exit codes of cmd/cli.go lines 22-27.
const (
	exitOK          = 0
	exitError       = 1
	exitIssuesFound = 2
)

type issue struct {
	file         string
	line, column int
	message      string
	rule         string
}

// A top-level block: its type, labels, where it starts, and its attribute names (depth 1).
type block struct {
	kind       string
	labels     []string
	file       string
	line, col  int
	attributes map[string]bool
}

type module struct {
	files  []string
	blocks []block
	text   string // every file's code, comments and strings dropped, for references
}

var (
	blockHead = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_-]*)((?:\s+"[^"]*"|\s+[A-Za-z_][A-Za-z0-9_-]*)*)\s*\{\s*$`)
	attribute = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_-]*)\s*=`)
	label     = regexp.MustCompile(`"([^"]*)"|([A-Za-z_][A-Za-z0-9_-]*)`)
	heredoc   = regexp.MustCompile(`<<-?([A-Za-z_][A-Za-z0-9_]*)\s*$`)
)

func fail(format string, args ...interface{}) {
	fmt.Printf(format+"\n", args...)
	os.Exit(exitError)
}

// code drops comments and string contents from a line (keeping the quotes), so braces
// and references are only counted in code; `inComment` carries a /* */ across lines.
func code(line string, inComment *bool) string {
	var out strings.Builder
	inString := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case *inComment:
			if strings.HasPrefix(line[i:], "*/") {
				*inComment, i = false, i+1
			}
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
				out.WriteByte(c)
			} else if strings.HasPrefix(line[i:], "${") {
				out.WriteString(" ") // interpolations keep their references
			} else if c != '}' {
				if isIdent(c) || c == '.' {
					out.WriteByte(c)
				} else {
					out.WriteByte(' ')
				}
			}
		case c == '"':
			inString = true
			out.WriteByte(c)
		case c == '#' || strings.HasPrefix(line[i:], "//"):
			return out.String()
		case strings.HasPrefix(line[i:], "/*"):
			*inComment, i = true, i+1
		default:
			out.WriteByte(c)
		}
	}
	if inString {
		fail("unterminated string in %q (the stand-in reads one-line strings only)", line)
	}
	return out.String()
}

func isIdent(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// parse reads one .tf file: its top-level blocks and their attribute names. Braces must
// balance, as HCL's parser demands (an error, exit 1, otherwise).
func parse(path string, m *module) {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("Failed to load configurations; %v", err)
	}
	depth, inComment, endOfHeredoc := 0, false, ""
	var current *block
	for number, raw := range strings.Split(string(data), "\n") {
		if endOfHeredoc != "" {
			if strings.TrimSpace(raw) == endOfHeredoc {
				endOfHeredoc = ""
			}
			continue
		}
		line := code(raw, &inComment)
		m.text += line + "\n"
		trimmed := strings.TrimSpace(line)
		if depth == 0 && trimmed != "" {
			head := blockHead.FindStringSubmatch(trimmed)
			if head == nil {
				fail("%s:%d: an argument or block definition is required here (the stand-in reads top-level blocks only)", path, number+1)
			}
			labels := []string{}
			for _, l := range label.FindAllStringSubmatch(head[2], -1) {
				labels = append(labels, l[1]+l[2])
			}
			m.blocks = append(m.blocks, block{head[1], labels, path, number + 1,
				strings.Index(raw, head[1]) + 1, map[string]bool{}})
			current = &m.blocks[len(m.blocks)-1]
			depth = 1
			continue
		}
		if depth == 1 && current != nil {
			if a := attribute.FindStringSubmatch(trimmed); a != nil {
				current.attributes[a[1]] = true
			}
		}
		if h := heredoc.FindStringSubmatch(raw); h != nil {
			endOfHeredoc = h[1]
		}
		depth += strings.Count(line, "{") - strings.Count(line, "}")
		if depth < 0 {
			fail("%s:%d: unexpected closing brace", path, number+1)
		}
	}
	if depth != 0 || endOfHeredoc != "" {
		fail("%s: unclosed configuration block", path)
	}
}

// The recommended rules this stand-in checks, as rules/*.go of the ruleset do them.
func inspect(dir string, m module) []issue {
	var found []issue
	hasRequiredVersion, variables := false, []block{}
	var terraform *block
	for i, b := range m.blocks {
		switch b.kind {
		case "terraform":
			if terraform == nil {
				terraform = &m.blocks[i]
			}
			hasRequiredVersion = hasRequiredVersion || b.attributes["required_version"]
		case "variable":
			variables = append(variables, b)
		}
	}
	// terraform_required_version.go lines 42-125.
	if !hasRequiredVersion {
		at := issue{message: `terraform "required_version" attribute is required`,
			rule: "terraform_required_version"}
		switch {
		case terraform != nil:
			at.file, at.line, at.column = terraform.file, terraform.line, terraform.col
		case len(m.files) == 1:
			at.file, at.line, at.column = m.files[0], 1, 1
		default:
			at.file = filepath.Join(dir, "terraform.tf")
			for _, name := range []string{"terraform.tf", "main.tf"} {
				for _, f := range m.files {
					if filepath.Base(f) == name && at.line == 0 {
						at.file, at.line, at.column = f, 1, 1
					}
				}
			}
		}
		found = append(found, at)
	}
	for _, v := range variables {
		name := ""
		if len(v.labels) > 0 {
			name = v.labels[0]
		}
		// terraform_typed_variables.go lines 43-80.
		if !v.attributes["type"] {
			found = append(found, issue{v.file, v.line, v.col,
				fmt.Sprintf("`%v` variable has no type", name), "terraform_typed_variables"})
		}
		// terraform_unused_declarations.go: a variable no expression refers to.
		used := regexp.MustCompile(`\bvar\.` + regexp.QuoteMeta(name) + `\b`)
		if !used.MatchString(m.text) {
			found = append(found, issue{v.file, v.line, v.col,
				fmt.Sprintf("variable %q is declared but not used", name),
				"terraform_unused_declarations"})
		}
	}
	return found
}

func main() {
	chdir, format, initOnly, recursive := "", "default", false, false
	for _, arg := range os.Args[1:] {
		name, value, _ := strings.Cut(arg, "=")
		switch name {
		case "--init":
			initOnly = true
		case "--recursive":
			recursive = true
		case "--chdir":
			chdir = value
		case "--format", "-f":
			format = value
		default:
			// cmd/cli.go unknownOptionHandler: an unknown option is an error.
			fmt.Printf("Failed to parse CLI options; --%s is unknown option. Please run \"tflint --help\"\n",
				strings.TrimLeft(name, "-"))
			os.Exit(exitError)
		}
	}
	if format != "compact" && format != "default" {
		fail("Failed: this stand-in writes only --format=compact (got %q)", format)
	}
	base := chdir
	if base == "" {
		base = "."
	}
	if info, err := os.Stat(base); err != nil || !info.IsDir() {
		fail("Failed to switch to a different working directory; chdir %s: no such file or directory", base)
	}
	// cmd/cli.go findWorkingDirs lines 153-183: every folder, hidden ones skipped.
	dirs := []string{base}
	if recursive {
		dirs = nil
		_ = filepath.WalkDir(base, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				fail("Failed to find workspaces; %v", err)
			}
			if d.IsDir() {
				if path != "." && path != base && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				dirs = append(dirs, path)
			}
			return nil
		})
	}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, ".tflint.hcl")); err == nil {
			fail("Failed to load TFLint config; %s/.tflint.hcl: this stand-in runs the default configuration only", dir)
		}
	}
	if initOnly {
		// cmd/init.go lines 84-88: the bundled plugin is never downloaded.
		fmt.Println("All plugins are already installed")
		os.Exit(exitOK)
	}
	var found []issue
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.tf"))
		if len(files) == 0 {
			continue // not a module folder (cmd/inspect.go IsConfigDir)
		}
		sort.Strings(files)
		m := module{files: files}
		for _, f := range files {
			parse(f, &m)
		}
		found = append(found, inspect(dir, m)...)
	}
	// formatter/compact.go lines 12-28.
	if len(found) > 0 {
		fmt.Printf("%d issue(s) found:\n\n", len(found))
	}
	for _, i := range found {
		fmt.Printf("%s:%d:%d: Warning - %s (%s)\n", i.file, i.line, i.column, i.message, i.rule)
	}
	// cmd/inspect_parallel.go line 100: any issue fails (no --minimum-failure-severity).
	if len(found) > 0 {
		os.Exit(exitIssuesFound)
	}
}
