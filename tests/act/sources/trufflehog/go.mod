module github.com/trufflesecurity/trufflehog/v3

go 1.19
