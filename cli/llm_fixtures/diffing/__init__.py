"""`fixtures diff`: what a re-recording changed, by meaning.

The pure core: `report` (what a diff says: pairs, statuses, classes, details), `comparing` (two recordings, by
their requests and their neutral answers from `assembling.final`), `changes` (field, word and tool-call
differences), `pairing` (which old recording goes with which new one), `volatility` (fields that change on every
re-record). The shell: `sides` (what each side holds: files, folders, git revisions), `gitreading` (git's objects,
read through git itself), `loading` (bytes to parsed recordings), `running` (pair, compare, in processes when many).
"""
