"""Match a track's EQ to a reference track, corrective first (what Match EQ plug-ins offer, as five bands).

Both tracks are analysed the same way (:func:`daw_bridge.analysis.analyze`). What differs:

* **narrow differences**: the track's fine spectrum minus the reference track's, searched for bumps,
  dips and steps against its own smooth envelope (:func:`daw_bridge.problems.find_envelope_problems`
  with the reference's fine spectrum as baseline), so a resonance only the track has is found and a
  constant level is not;
* **broad differences**: the third-octave difference of the aligned levels, minus what the narrow
  ones explain, decomposed like any deviation (:func:`daw_bridge.problems.find_broad`, weighted by
  the natural variation of real music, a lower threshold :data:`MATCH_MIN_Z` since the user asked
  for this target).

Both are named in lexicon words and corrected first; the rest of the difference is the balance
move (``goal="reference"``), scaled by the strength (:func:`daw_bridge.fix.plan_eq`). A track matched to itself
has no difference at all and gets an exactly flat EQ.
"""

from __future__ import annotations

import numpy as np

from daw_bridge.adapt import Decision, check_strength, planned_decision, realign
from daw_bridge.analysis import Analysis, default_lexicon
from daw_bridge.errors import SemeqError
from daw_bridge.fix import plan_eq
from daw_bridge.naming import name_bumps
from daw_bridge.problems import (
    bumps_band_response_db,
    find_broad,
    find_envelope_problems,
)

#: z threshold of broad differences when matching (the user chose the target).
MATCH_MIN_Z = 2.0


class MatchError(SemeqError):
    code = "bad_request"


def match(analysis: Analysis, reference_track: Analysis, strength: float = 1.0, max_gain_db: float = 6.0) -> Decision:
    """The EQ that moves ``analysis``'s track ``strength`` (0..1) of the way to ``reference_track``'s balance."""
    check_strength(strength, max_gain_db)
    if not np.array_equal(analysis.fine.centres_hz, reference_track.fine.centres_hz):
        # different sample rates end the fine grid at different points: compare on the common part
        n = min(analysis.fine.centres_hz.size, reference_track.fine.centres_hz.size)
        if not np.allclose(analysis.fine.centres_hz[:n], reference_track.fine.centres_hz[:n]):
            raise MatchError("the two tracks' spectra cannot be compared")
    else:
        n = analysis.fine.centres_hz.size
    fine = type(analysis.fine)(analysis.fine.centres_hz[:n], analysis.fine.level_db[:n])
    deviation = realign(analysis.level_db - reference_track.level_db)
    sr = analysis.sample_rate_hz
    narrow = find_envelope_problems(fine, baseline_db=reference_track.fine.level_db[:n])
    rest = deviation - bumps_band_response_db(narrow, sr)
    broad = find_broad(rest - np.nanmedian(rest), analysis.reference, sr, min_z=MATCH_MIN_Z)
    lexicon = default_lexicon()
    problems = tuple(name_bumps(narrow + broad, lexicon))
    plan = plan_eq(problems, deviation, analysis.reference, sr, float(strength), float(max_gain_db),
                   goal="reference", lexicon=lexicon)
    return planned_decision(analysis, plan, strength, deviation, "the reference track", problems)
