module github.com/oasdiff/oasdiff

go 1.19
