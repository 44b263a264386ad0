module lugobench

go 1.19
