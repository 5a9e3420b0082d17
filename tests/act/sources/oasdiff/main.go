// A stand-in for oasdiff v1.28.0's `breaking`; README.md says what of the real program it
// follows and where.
package main

import (
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
)

// Exit codes (internal/errors.go, internal/run.go, internal/handlers.go).
const (
	generalExecutionErr = 100 // cobra's own errors: an unknown flag, a bad flag value
	failedToLoadSpec    = 102
	breakingAtFailOn    = 1
)

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

type change struct {
	id, source, operation, path, text string
}

func exit(code int, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "Error: "+format+"\n", args...)
	os.Exit(code)
}

func load(what, path string) map[string]interface{} {
	data, err := os.ReadFile(path)
	if err != nil {
		exit(failedToLoadSpec, "failed to load %s spec from %s: %v", what, path, err)
	}
	doc, err := parseDocument(string(data))
	spec, isMap := doc.(map[string]interface{})
	if err == nil && !isMap {
		err = fmt.Errorf("the document is not a mapping")
	}
	if err != nil {
		exit(failedToLoadSpec, "failed to load %s spec from %s: %v", what, path, err)
	}
	return spec
}

func mapping(v interface{}) map[string]interface{} {
	m, _ := v.(map[string]interface{})
	return m
}

// parameters of an operation and its path item, `$ref`s to #/components/parameters read,
// keyed `in name`.
func parameters(spec, item, op map[string]interface{}) map[string]map[string]interface{} {
	out := map[string]map[string]interface{}{}
	for _, owner := range []map[string]interface{}{item, op} {
		list, _ := owner["parameters"].([]interface{})
		for _, p := range list {
			param := mapping(p)
			if ref, _ := param["$ref"].(string); strings.HasPrefix(ref, "#/components/parameters/") {
				param = mapping(mapping(mapping(spec["components"])["parameters"])[strings.TrimPrefix(ref, "#/components/parameters/")])
			}
			out[fmt.Sprint(param["in"], " ", param["name"])] = param
		}
	}
	return out
}

func isSuccess(status string) bool {
	return len(status) == 3 && status[0] == '2'
}

// breaking runs the four checks the stand-in knows (checker/check_api_removed.go,
// checker/check_response_status_updated.go, checker/check_new_request_non_path_parameter.go).
func breaking(base, revision map[string]interface{}, baseFile, revisionFile string) []change {
	var changes []change
	basePaths, revPaths := mapping(base["paths"]), mapping(revision["paths"])
	for path, b := range basePaths {
		baseItem := mapping(b)
		revItem, kept := revPaths[path]
		for _, method := range methods {
			baseOp, has := baseItem[method]
			if !has {
				continue
			}
			op := strings.ToUpper(method)
			if !kept {
				changes = append(changes, change{"api-path-removed-without-deprecation", baseFile, op, path,
					"api path removed without deprecation"})
				continue
			}
			revOp, still := mapping(revItem)[method]
			if !still {
				changes = append(changes, change{"api-removed-without-deprecation", baseFile, op, path,
					"api removed without deprecation"})
				continue
			}
			revResponses := mapping(mapping(revOp)["responses"])
			for status := range mapping(mapping(baseOp)["responses"]) {
				if _, same := revResponses[status]; isSuccess(status) && !same {
					changes = append(changes, change{"response-success-status-removed", revisionFile, op, path,
						fmt.Sprintf("removed the success response with the status `%s`", status)})
				}
			}
			before := parameters(base, baseItem, mapping(baseOp))
			for key, param := range parameters(revision, mapping(revItem), mapping(revOp)) {
				if _, old := before[key]; !old && param["in"] != "path" && param["required"] == true {
					changes = append(changes, change{"new-required-request-parameter", revisionFile, op, path,
						fmt.Sprintf("added the new required `%v` request parameter `%v`", param["in"], param["name"])})
				}
			}
		}
	}
	sort.Slice(changes, func(i, j int) bool {
		a, b := changes[i], changes[j]
		return a.path+" "+a.operation+" "+a.id+" "+a.text < b.path+" "+b.operation+" "+b.id+" "+b.text
	})
	return changes
}

func main() {
	args := os.Args[1:]
	if len(args) == 0 || args[0] != "breaking" {
		exit(generalExecutionErr, "this stand-in knows only `breaking`")
	}
	var files []string
	failOn := ""
	for i := 1; i < len(args); i++ {
		arg := args[i]
		name, value, hasValue := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		switch {
		case !strings.HasPrefix(arg, "-"):
			files = append(files, arg)
		case name == "fail-on" || arg == "-o":
			if !hasValue {
				if i++; i >= len(args) {
					exit(generalExecutionErr, "flag needs an argument: --fail-on")
				}
				value = args[i]
			}
			if value != "WARN" && value != "ERR" {
				exit(generalExecutionErr, "invalid argument %q for \"-o, --fail-on\" flag: %s is not one of the allowed values: ERR, WARN", value, value)
			}
			failOn = value
		case name == "allow-external-refs" && (!hasValue || value == "false"):
		case name == "composed" && hasValue && value == "false":
		default:
			exit(generalExecutionErr, "this stand-in does not read the flag %s", arg)
		}
	}
	if len(files) != 2 {
		exit(generalExecutionErr, "accepts 2 arg(s), received %d", len(files))
	}
	base, revision := load("base", files[0]), load("revision", files[1])
	changes := breaking(base, revision, files[0], files[1])
	// formatters/format_text.go RenderChangelog, checker/api_change.go MultiLineError.
	switch {
	case len(changes) > 0:
		fmt.Printf("%d changes: %d error, 0 warning, 0 info\n", len(changes), len(changes))
		for _, c := range changes {
			fmt.Printf("error\t[%s] at %s\n\tin API %s %s\n\t\t%s\n\n", c.id, c.source, c.operation, c.path, c.text)
		}
	case reflect.DeepEqual(base, revision):
		fmt.Println("No changes detected")
	default:
		fmt.Println("No breaking changes to report, but the specs are different.\nRun 'oasdiff diff' to see structural differences.")
	}
	// Every change the stand-in reports is an error, so both levels fail on it.
	if failOn != "" && len(changes) > 0 {
		os.Exit(breakingAtFailOn)
	}
}
