"""The words of a request that are not descriptors, as tables read by :mod:`daw_bridge.semantic.parse`:
degrees ("a bit"), negators ("less"), intensifiers ("more"), phrases read as other words first ("bring
down", "leave it as is"), filler and the instruments a request names, amount words ("too loud") and
locations ("on top"). Plain data: the grammar that uses them is in :mod:`~daw_bridge.semantic.parse`.
"""

from __future__ import annotations

#: Degree phrases and their factors (longest phrases are matched first).
DEGREES = {
    "a tiny bit": 0.35, "a little bit": 0.5, "a bit": 0.5, "a little": 0.5, "little": 0.5,
    "a touch": 0.35, "a tad": 0.35, "slightly": 0.5, "subtly": 0.5, "gently": 0.5, "somewhat": 0.7,
    "kind of": 0.7, "sort of": 0.7, "fairly": 0.8, "quite": 1.2, "a lot": 1.5, "lots": 1.5, "much": 1.5,
    "way": 1.5, "very": 1.5, "really": 1.5, "far": 1.5, "heavily": 1.5, "extremely": 2.0,
    "hugely": 2.0, "massively": 2.0, "twice as": 2.0, "twice": 2.0,
    "a hint": 0.35, "a smidge": 0.35, "a smidgen": 0.35, "a whisker": 0.35, "marginally": 0.35, "barely": 0.35,
    "a ton": 1.5, "a tonne": 1.5, "tons": 1.5, "loads": 1.5, "heaps": 1.5, "considerably": 1.5,
    "significantly": 1.5, "substantially": 1.5, "seriously": 1.5, "super": 1.5, "insanely": 2.0, "crazy": 2.0,
}
#: Words that turn the request into its opposite.
NEGATORS = ("less", "not", "no", "too", "without", "reduce", "remove", "cut", "tame", "lower", "fewer",
            "decrease", "kill", "lose", "dip", "attenuate", "pull", "take", "shave", "trim", "ease",
            "overpowering", "overwhelming", "overbearing", "excessive", "dominating", "never")
#: Words that ask for more of something (comparative).
INTENSIFIERS = ("more", "add", "boost", "increase", "extra", "bring", "raise", "lift", "emphasise", "emphasize",
                "accentuate", "enhance", "bump")
#: Verb phrases that say which way, read as "less" or "more" before anything else ("bring down the
#: highs" is less bright, not "bring" = more).
DIRECTION_PHRASES = {
    "bring down": "less", "pull down": "less", "knock down": "less", "pull back": "less", "turn down": "less", "dial back": "less",
    "roll off": "less", "back off": "less", "get rid of": "less", "take out": "less", "take away": "less",
    "scoop out": "less", "scoop the": "less the", "scoop some": "less some", "carve out": "less",
    "bring up": "more", "bring out": "more", "turn up": "more", "push up": "more",
    "dial in": "more", "cut through": "more presence",
    "not enough": "more", "too little": "more", "lacks": "more", "lacking": "more", "missing": "more",
    "fix the": "less the", "fix up the": "less the", "sort out the": "less the", "deal with the": "less the",
    "a bit much": "a bit too much", "a little much": "a little too much", "half as": "a bit less",
    "too much": "too", "too many": "too", "tone down": "less", "shelf down": "less", "fill out": "more",
    "calm down": "less", "has no": "more", "have no": "more", "has got no": "more", "there's no": "more",
    "there is no": "more", "further back": "distant", "further forward": "forward",
    # what must not be lost is kept, in a clause of its own ("warmer without losing clarity")
    **{f"{neg} {verb}": ", keep" for neg in ("without", "not") for verb in ("losing", "lose", "sacrificing",
                                                                            "sacrifice", "killing", "kill")},
}
#: Ways of asking for no change ("leave it as is"), read as the no-change word "unchanged" (after "n't" is "not").
NO_CHANGE_PHRASES = ("leave it as is", "leave it alone", "as it is", "as is", "do not change anything",
                     "do not change it", "do not change", "do not touch it", "do not touch", "no changes", "no change",
                     "perfect already", "already perfect", "fine already", "already fine", "good already",
                     "already good")
#: What is being described: instruments and the mix. Filler; a clause naming one with no verb or
#: direction ("harsh cymbals", "boxy snare") describes a problem (:attr:`~daw_bridge.semantic.parse.Mention.described`).
SUBJECTS = frozenset("""
mix track song master vocals vocal voice guitar guitars drums drum piano keys bass-line snare kick synth
instrument cymbal cymbals hat hats hihat hihats hi-hat hi-hats tom toms overheads strings horns organ pad pads
choir bvs backing lead rhythm sax trumpet violin violins cello flute harp banjo mandolin ukulele percussion
shaker tambourine loop loops beat stem stems bus channel
""".split())
FILLER = SUBJECTS | frozenset("""
make makes making it its it's the a an sound sounds sounding tone please can could would you i i'd
want wanted need like to be should just give me us some this that overall feel feeling
get let's lets go for on in of my our out up bit lot little at all here there so is are was were
from across throughout whole entire everything off down away
do does did have has thing things stuff end keep keeps keeping preserve preserving retain retaining maintain
maintaining leave stay needs needed use wants there's there
region regions range area zone frequencies frequency band spectrum
than before now currently already as compared
pls plz thx thanks being will any anything change each other effect acoustic electric hi they them these those we
coming through sit sits sitting
under beneath behind into onto inside within with
""".split())

#: Beside another word, how much of it there is ("the esses are too loud"): more (1) or less (-1).
AMOUNT_WORDS = {"loud": 1.0, "louder": 1.0, "prominent": 1.0, "quiet": -1.0, "quieter": -1.0}
#: Where in the spectrum, said as a place: with another word it only says where that word acts
#: ("more sparkle on top", "less mud down low") and is dropped; alone it is that region ("more on top").
LOCATIONS = {"on top": "top end", "up top": "top end", "at the top": "top end", "down low": "low end",
             "down below": "low end", "at the bottom": "low end", "on the bottom": "low end",
             "down the bottom": "low end", "high shelf": "top end", "high-shelf": "top end", "low shelf": "low end",
             "low-shelf": "low end"}
