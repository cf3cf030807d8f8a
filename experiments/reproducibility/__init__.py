"""Whether a result repeats bit for bit, alone, beside a batch-mate and on several devices."""
