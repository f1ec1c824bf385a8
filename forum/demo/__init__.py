"""The demo community behind `flask forum seed-demo` and `make run`.

`content` reads the community from `data/*.toml`; `seeding` loads it through the same services a
user goes through; `support_desk` adds the support desk's side (canned replies, triage, a case).
"""
