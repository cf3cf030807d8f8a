"""Several candidates of one image (restarts, kernel sizes) in one batched program, and a
no-reference choice among them (issue #11)."""

from selfdeblur_jax.candidates.search import (
                                              CandidateSearch,
                                              CandidateSpec,
                                              Outcome,
                                              candidate_sizes,
                                              choose,
                                              plan_candidates,
)
from selfdeblur_jax.candidates.selection import SELECTORS, score_candidates

__all__ = ["SELECTORS", "CandidateSearch", "CandidateSpec", "Outcome", "candidate_sizes", "choose",
           "plan_candidates", "score_candidates"]
