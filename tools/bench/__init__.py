"""The page benchmark (`make bench`): a generated forum served by gunicorn and loaded with wrk, beside a
Flask hello-world served the same way (`tools.bench.run`); the generator (`tools.bench.generate`)."""
