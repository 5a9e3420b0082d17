module github.com/terraform-linters/tflint

go 1.19
