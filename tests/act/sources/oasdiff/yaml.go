// The YAML subset the stand-in reads (README.md says which); a JSON document is read as JSON.
package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

type line struct {
	number, indent int
	text           string // without the indentation and without a trailing comment
	raw            string // as written, for block scalars
}

type reader struct {
	lines []line
	pos   int
}

func parseDocument(data string) (interface{}, error) {
	if strings.HasPrefix(strings.TrimSpace(data), "{") {
		var doc interface{}
		err := json.Unmarshal([]byte(data), &doc)
		return doc, err
	}
	r := &reader{}
	for i, raw := range strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n") {
		if strings.Contains(raw, "\t") && strings.TrimLeft(raw, " ") != strings.TrimLeft(raw, " \t") {
			return nil, fmt.Errorf("line %d: a tab in the indentation", i+1)
		}
		text := strings.TrimSpace(stripComment(raw))
		if text == "---" || strings.HasPrefix(text, "%") {
			text = ""
		}
		r.lines = append(r.lines, line{i + 1, len(raw) - len(strings.TrimLeft(raw, " ")), text, raw})
	}
	r.skipBlank()
	if r.pos >= len(r.lines) {
		return nil, fmt.Errorf("an empty document")
	}
	doc, err := r.block(r.lines[r.pos].indent)
	if err == nil {
		if r.skipBlank(); r.pos < len(r.lines) {
			err = fmt.Errorf("line %d: unexpected indentation", r.lines[r.pos].number)
		}
	}
	return doc, err
}

// stripComment drops a ` #` comment outside quotes.
func stripComment(s string) string {
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' && (i == 0 || s[i-1] == ' '):
			return s[:i]
		}
	}
	return s
}

func (r *reader) skipBlank() {
	for r.pos < len(r.lines) && r.lines[r.pos].text == "" {
		r.pos++
	}
}

// block reads the mapping or sequence whose entries start at column indent.
func (r *reader) block(indent int) (interface{}, error) {
	r.skipBlank()
	if strings.HasPrefix(r.lines[r.pos].text+" ", "- ") {
		return r.sequence(indent)
	}
	return r.mapping(indent)
}

func (r *reader) sequence(indent int) (interface{}, error) {
	items := []interface{}{}
	for r.skipBlank(); r.pos < len(r.lines); r.skipBlank() {
		l := &r.lines[r.pos]
		if l.indent != indent || !strings.HasPrefix(l.text+" ", "- ") {
			break
		}
		rest := strings.TrimSpace(l.text[1:])
		if rest == "" {
			r.pos++
			item, err := r.child(indent)
			if err != nil {
				return nil, err
			}
			items = append(items, item)
			continue
		}
		if _, _, isKey := splitKey(rest); isKey {
			// `- key: value` opens a mapping at the column of its key.
			l.indent, l.text = indent+len(l.text)-len(rest), rest
			item, err := r.mapping(l.indent)
			if err != nil {
				return nil, err
			}
			items = append(items, item)
			continue
		}
		r.pos++
		item, err := scalarOrFlow(rest, l.number)
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	}
	return items, nil
}

func (r *reader) mapping(indent int) (interface{}, error) {
	entries := map[string]interface{}{}
	for r.skipBlank(); r.pos < len(r.lines); r.skipBlank() {
		l := r.lines[r.pos]
		if l.indent < indent {
			break
		}
		if l.indent > indent {
			return nil, fmt.Errorf("line %d: unexpected indentation", l.number)
		}
		key, value, ok := splitKey(l.text)
		if !ok {
			return nil, fmt.Errorf("line %d: expected `key: value`, got %q", l.number, l.text)
		}
		if _, twice := entries[key]; twice {
			return nil, fmt.Errorf("line %d: mapping key %q already defined", l.number, key)
		}
		r.pos++
		var err error
		switch {
		case value == "":
			entries[key], err = r.child(indent)
		case value == "|" || value == ">" || value == "|-" || value == ">-":
			entries[key] = r.blockScalar(indent, value)
		default:
			entries[key], err = scalarOrFlow(value, l.number)
		}
		if err != nil {
			return nil, err
		}
	}
	return entries, nil
}

// child reads the value of a key (or `-`) on a line of its own: a deeper block, a sequence
// at the key's own column, or nothing (null).
func (r *reader) child(indent int) (interface{}, error) {
	r.skipBlank()
	if r.pos >= len(r.lines) {
		return nil, nil
	}
	next := r.lines[r.pos]
	if next.indent > indent || (next.indent == indent && strings.HasPrefix(next.text+" ", "- ")) {
		return r.block(next.indent)
	}
	return nil, nil
}

func (r *reader) blockScalar(indent int, style string) string {
	var parts []string
	for ; r.pos < len(r.lines); r.pos++ {
		l := r.lines[r.pos]
		if strings.TrimSpace(l.raw) != "" && l.indent <= indent {
			break
		}
		parts = append(parts, strings.TrimSpace(l.raw))
	}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	sep := "\n"
	if style[0] == '>' {
		sep = " "
	}
	text := strings.Join(parts, sep)
	if !strings.HasSuffix(style, "-") {
		text += "\n"
	}
	return text
}

// splitKey splits `key: value` (or `key:`), the key plain or quoted.
func splitKey(text string) (string, string, bool) {
	end := -1
	if text == "" || text[0] == '[' || text[0] == '{' {
		return "", "", false // a flow collection, not a key
	}
	if text[0] == '"' || text[0] == '\'' {
		end = quotedEnd(text)
	} else {
		end = strings.Index(text+" ", ": ")
	}
	if end <= 0 || end >= len(text)+1 || !strings.HasPrefix(text[end:]+" ", ": ") && text[end:] != ":" {
		return "", "", false
	}
	key, err := scalar(text[:end])
	if err != nil {
		return "", "", false
	}
	return fmt.Sprint(key), strings.TrimSpace(strings.TrimPrefix(text[end:], ":")), true
}

// quotedEnd is the length of the quoted scalar text starts with (-1 when unterminated):
// `\` escapes in double quotes, `”` in single quotes.
func quotedEnd(text string) int {
	for i := 1; i < len(text); i++ {
		switch {
		case text[0] == '"' && text[i] == '\\':
			i++
		case text[i] == text[0] && text[0] == '\'' && i+1 < len(text) && text[i+1] == '\'':
			i++
		case text[i] == text[0]:
			return i + 1
		}
	}
	return -1
}

func scalar(text string) (interface{}, error) {
	switch {
	case strings.HasPrefix(text, "\""):
		return strconv.Unquote(text)
	case strings.HasPrefix(text, "'"):
		if len(text) < 2 || !strings.HasSuffix(text, "'") {
			return nil, fmt.Errorf("an unterminated quoted scalar %s", text)
		}
		return strings.ReplaceAll(text[1:len(text)-1], "''", "'"), nil
	case text == "true" || text == "True":
		return true, nil
	case text == "false" || text == "False":
		return false, nil
	case text == "null" || text == "~" || text == "":
		return nil, nil
	}
	return text, nil
}

func scalarOrFlow(text string, number int) (interface{}, error) {
	if text[0] != '[' && text[0] != '{' {
		value, err := scalar(text)
		if err != nil {
			err = fmt.Errorf("line %d: %v", number, err)
		}
		return value, err
	}
	value, rest, err := flow(text)
	if err == nil && strings.TrimSpace(rest) != "" {
		err = fmt.Errorf("unexpected %q after a flow collection", rest)
	}
	if err != nil {
		err = fmt.Errorf("line %d: %v (flow collections are read on one line)", number, err)
	}
	return value, err
}

// flow reads one flow value (`[a, b]`, `{k: v}` or a scalar) and returns what follows it.
func flow(text string) (interface{}, string, error) {
	text = strings.TrimLeft(text, " ")
	if text == "" {
		return nil, "", fmt.Errorf("a missing value")
	}
	if text[0] != '[' && text[0] != '{' {
		end := 0
		if text[0] == '"' || text[0] == '\'' {
			if end = quotedEnd(text); end < 0 {
				return nil, "", fmt.Errorf("an unterminated quoted scalar")
			}
		} else {
			end = strings.IndexAny(text, ",]}")
			if colon := strings.Index(text, ": "); colon >= 0 && (end < 0 || colon < end) {
				end = colon
			}
			if end < 0 {
				end = len(text)
			}
		}
		value, err := scalar(strings.TrimSpace(text[:end]))
		return value, text[end:], err
	}
	closer, items, entries := byte(']'), []interface{}{}, map[string]interface{}{}
	if text[0] == '{' {
		closer = '}'
	}
	rest := strings.TrimLeft(text[1:], " ")
	for rest != "" && rest[0] != closer {
		var value interface{}
		var err error
		if value, rest, err = flow(rest); err != nil {
			return nil, "", err
		}
		rest = strings.TrimLeft(rest, " ")
		if closer == '}' {
			if !strings.HasPrefix(rest, ":") {
				return nil, "", fmt.Errorf("expected `:` after the key %v", value)
			}
			var item interface{}
			if item, rest, err = flow(rest[1:]); err != nil {
				return nil, "", err
			}
			entries[fmt.Sprint(value)] = item
		} else {
			items = append(items, value)
		}
		if rest = strings.TrimLeft(rest, " "); strings.HasPrefix(rest, ",") {
			rest = strings.TrimLeft(rest[1:], " ")
		} else if rest == "" || rest[0] != closer {
			return nil, "", fmt.Errorf("expected `,` or `%c`", closer)
		}
	}
	if rest == "" {
		return nil, "", fmt.Errorf("an unclosed flow collection")
	}
	if closer == '}' {
		return entries, rest[1:], nil
	}
	return items, rest[1:], nil
}
