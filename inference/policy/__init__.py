"""The content policy: nothing depicting a child (under 16) is shown, and no child query is
searched, in any language the search reads.

- `query_verdict` / `word_verdict`: may this query be searched (inference/policy/verdict.py);
- `restricted_images`: which images are withheld, the one rule for training, evaluation and
  serving (inference/policy/images.py);
- `is_restricted_text`: does a text name a child, in any language the policy reads
  (inference/policy/readings.py; the vocabulary: inference/policy/words.py);
- `DISCLAIMER`, `SEARCH_REFUSED`: what is shown instead; `POLICIES`: strict or off.
"""

from inference.policy.images import is_restricted_image, restricted_images
from inference.policy.query_net import QueryNet
from inference.policy.readings import (
    CHILD_LEMMAS,
    NOUN_SUFFIX_RULES,
    fold,
    is_restricted_text,
    noun_lemmas,
    restricted_languages,
    warm_up,
    warm_up_in_background,
    words,
)
from inference.policy.verdict import (
    DISCLAIMER,
    POLICIES,
    SEARCH_REFUSED,
    TextVerdict,
    query_verdict,
    query_verdicts,
    word_verdict,
)

__all__ = [
    "CHILD_LEMMAS",
    "DISCLAIMER",
    "NOUN_SUFFIX_RULES",
    "POLICIES",
    "SEARCH_REFUSED",
    "QueryNet",
    "TextVerdict",
    "fold",
    "is_restricted_image",
    "is_restricted_text",
    "noun_lemmas",
    "query_verdict",
    "query_verdicts",
    "restricted_images",
    "restricted_languages",
    "warm_up",
    "warm_up_in_background",
    "word_verdict",
    "words",
]
