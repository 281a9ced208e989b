module pbftlab

go 1.26
