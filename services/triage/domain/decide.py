"""The first triage rule set: safety first, then the least intrusive response that is safe.

It follows DOMAIN.md's routing principles: weapons/violence/crime → police;
medical danger or a suspected overdose → EMT (overdose also naloxone and a
clinician for the warm handoff); a behavioural-health or substance-use crisis
without weapon, violence or serious medical need → clinician and no police;
a rural jurisdiction swaps the in-person clinician for telehealth with someone
on scene. The full policy engine (YAML policies, richer language) replaces
the tables here; the shape of the decision stays.
"""

from schemas.calls import CallIntake
from schemas.policy import Policy
from schemas.triage import RationaleItem, TriageDecision
from schemas.vocabulary import CallSource, Category, Flag, ResponseModel, Role
from services.triage.domain.findings import Finding, from_answers, read_narrative


def _combine(
    name: str, answer: bool | None, narrative: Finding, rationale: list[RationaleItem]
) -> bool:
    """The safer reading wins when the answer and the words disagree."""
    said = narrative.present
    if answer is True:
        return True
    if answer is False and said:
        rationale.append(
            RationaleItem(
                rule="conflict.safer_reading",
                reason=f"answer says no {name}, narrative suggests it: keeping the safer reading",
                evidence=[f"answers.{name}=false", *narrative.evidence],
            )
        )
        return True
    return said


def decide(call: CallIntake, policy: Policy) -> TriageDecision:
    """Classify one call under one policy. Pure: same input, same output."""
    words = read_narrative(call.narrative)
    answers = from_answers(call.answers)
    why: list[RationaleItem] = []

    def has(name: str) -> bool:
        return _combine(name, answers.get(name), words[name], why)

    def evidence(*names: str) -> list[str]:
        out: list[str] = []
        for name in names:
            if answers.get(name) is True:
                out.append(f"answers.{name}")
            out.extend(words[name].evidence)
        return out

    weapon, violence, crime = has("weapon"), has("violence"), has("crime")
    threat, aggression = has("threat"), words["aggression"].present
    # Principle 4: a suspected weapon ("might have a gun") is not a no.
    maybe_armed = not weapon and bool(words["weapon"].hedged)
    not_breathing = has("not_breathing")
    # "Passed out" that "wakes up when you talk to him" is not unresponsive; a
    # "no" to the consciousness question still is.
    if words["responsive"].present and answers["unconscious"] is not True:
        words["unconscious"].present = False
    unconscious = has("unconscious")
    # Unresponsive or not breathing after drug use is a suspected overdose:
    # naloxone is given empirically, and costs nothing if it was not opioids.
    # Alcohol alone does not make it one; an unknown substance does.
    drugs = (
        words["opioid"].present
        or words["substance"].present
        or words["paraphernalia"].present
        or words["pills_taken"].present  # unknown pills may be pressed fentanyl
        or answers["substance"] is True
    )
    # On a follow-up visit, "after an overdose" is history: only what is
    # happening now (unresponsive, not breathing after use) is an overdose.
    overdose_said = has("overdose") and (
        call.source != CallSource.FOLLOW_UP or answers["overdose"] is True
    )
    overdose = (
        overdose_said
        or (drugs and (unconscious or not_breathing))
        or (words["opioid"].present and words["pills_taken"].present)
    )
    critical = words["critical"].present
    medical = has("medical") or critical
    suicidal = has("suicidal")
    ledge = words["ledge"].present
    pills = words["pills_taken"].present
    means = words["means"].present
    withdrawal = words["withdrawal"].present
    substance = (
        has("substance") or words["opioid"].present or withdrawal or words["alcohol"].present
    )
    mental = words["mental_health"].present
    children = has("children")
    danger = weapon or violence or crime or threat or aggression or maybe_armed

    roles: set[Role] = set()
    flags: set[Flag] = set()
    priority = 3

    if danger:
        roles.add(Role.POLICE)
        flags |= {Flag.WEAPONS} if (weapon or maybe_armed) else set()
        flags |= {Flag.VIOLENCE} if violence else set()
        # Priority 1 is a weapon out or violence in progress; a threat, a
        # suspicion or aggression is urgent but not yet a life threat.
        priority = 1 if (weapon or violence) else 2
        why.append(
            RationaleItem(
                rule="safety.police",
                reason=_police_reason(weapon, violence, crime, threat, aggression, maybe_armed),
                evidence=evidence("weapon", "violence", "crime", "threat")
                + words["weapon"].hedged
                + words["aggression"].evidence,
            )
        )
    if overdose:
        roles |= {Role.EMT, Role.CLINICIAN}
        flags |= {Flag.OVERDOSE, Flag.NALOXONE, Flag.MEDICAL, Flag.SUBSTANCE_USE}
        priority = 1
        why.append(
            RationaleItem(
                rule="medical.overdose",
                reason="suspected overdose: EMT with naloxone, clinician for the warm handoff",
                evidence=evidence("overdose", "unconscious", "not_breathing")
                + words["opioid"].evidence
                + words["paraphernalia"].evidence,
            )
        )
    # Pills taken are an ingestion: a medical emergency, intent stated or not.
    if not_breathing or unconscious or medical or pills:
        roles.add(Role.EMT)
        flags.add(Flag.MEDICAL)
        priority = 1 if (not_breathing or unconscious or pills or critical) else min(priority, 2)
        why.append(
            RationaleItem(
                rule="medical.emergency",
                reason="medical danger: EMT",
                evidence=evidence("not_breathing", "unconscious", "medical")
                + words["critical"].evidence
                + words["pills_taken"].evidence,
            )
        )
    if suicidal or ledge:
        roles.add(Role.CLINICIAN)
        flags.add(Flag.SUICIDE_RISK)
        # Principle 6: means at hand, an attempt under way (pills, injury) or a
        # person on a ledge is a life threat now; ideation alone is urgent.
        acute = ledge or pills or weapon or means or (suicidal and medical)
        priority = 1 if acute else min(priority, 2)
        why.append(
            RationaleItem(
                rule="behavioural.suicide",
                reason="suicide risk: clinician" + (", life threat now" if acute else ""),
                evidence=evidence("suicidal") + words["ledge"].evidence + words["means"].evidence,
            )
        )
    if mental or substance:
        roles.add(Role.CLINICIAN)
        if substance:
            flags.add(Flag.SUBSTANCE_USE)
        priority = min(priority, 2)
        why.append(
            RationaleItem(
                rule="behavioural.crisis",
                reason="behavioural-health or substance-use crisis: clinician",
                evidence=words["mental_health"].evidence + evidence("substance"),
            )
        )
    urgent_findings = (
        danger
        or overdose
        or medical
        or pills
        or not_breathing
        or unconscious
        or suicidal
        or ledge
        or withdrawal
    )
    calm = words["safe"].present or words["resource_request"].present
    if priority == 2 and calm and not urgent_findings:
        # DOMAIN priority 3: a person who is safe but needs help, or a resource request.
        priority = 3
        why.append(
            RationaleItem(
                rule="priority.safe_resource_request",
                reason="safe now or asking for a resource, no danger found: non-urgent",
                evidence=words["safe"].evidence + words["resource_request"].evidence,
            )
        )
    if not roles:
        roles.add(Role.CLINICIAN)
        why.append(
            RationaleItem(
                rule="welfare.default",
                reason="no safety or medical finding: clinician welfare check",
                evidence=["(no findings)"],
            )
        )
    if children:
        flags.add(Flag.CHILDREN_PRESENT)
        why.append(
            RationaleItem(
                rule="family.children_present",
                reason="children present: family-support referral",
                evidence=evidence("children"),
            )
        )
    if call.source == CallSource.FOLLOW_UP and (danger or not_breathing or unconscious):
        # The visit is still clinician-side work; what was found now adds to it.
        roles.add(Role.CLINICIAN)
    elif call.source == CallSource.FOLLOW_UP:
        # Principle 8: a follow-up (post-overdose outreach, QRT visit) is planned
        # clinician-side work about something that already happened; only danger
        # found now brings police or an EMT.
        roles = {Role.CLINICIAN}
        priority = 3
        why.append(
            RationaleItem(
                rule="follow_up.outreach",
                reason="follow-up visit: clinician-side outreach, no police, no EMT",
                evidence=[f"source={call.source.value}"],
            )
        )

    model = _response_model(roles)
    if Role.CLINICIAN in roles and not policy.in_person_clinicians:
        roles.discard(Role.CLINICIAN)
        roles.add(Role.TELEHEALTH)
        if not roles & {Role.POLICE, Role.EMT}:
            roles.add(Role(policy.telehealth_on_scene))
        model = ResponseModel.TELEHEALTH if Role.POLICE not in roles else ResponseModel.CO_RESPONDER
        why.append(
            RationaleItem(
                rule="policy.telehealth",
                reason=f"{policy.jurisdiction} has no in-person clinician program: "
                "telehealth clinician with a unit on scene",
                evidence=[f"policy.{policy.jurisdiction}"],
            )
        )

    return TriageDecision(
        category=_category(flags, mental, substance, medical, threat),
        priority=priority,
        response_model=model,
        roles=sorted(roles),
        flags=sorted(flags),
        rationale=why,
        policy_version=policy.version,
    )


def _police_reason(
    weapon: bool, violence: bool, crime: bool, threat: bool, aggression: bool, maybe_armed: bool
) -> str:
    found = [
        name
        for name, present in (
            ("weapon", weapon),
            ("violence in progress", violence),
            ("crime in progress", crime),
            ("threat to hurt someone", threat),
            ("possible weapon", maybe_armed),
            ("aggression", aggression),
        )
        if present
    ]
    return "police: " + ", ".join(found)


def _response_model(roles: set[Role]) -> ResponseModel:
    if Role.POLICE in roles:
        return ResponseModel.CO_RESPONDER if Role.CLINICIAN in roles else ResponseModel.POLICE
    if Role.EMT in roles:
        return ResponseModel.FIREHOUSE
    return ResponseModel.CLINICIAN


def _category(
    flags: set[Flag], mental: bool, substance: bool, medical: bool, threat: bool
) -> Category:
    if Flag.OVERDOSE in flags:
        return Category.OVERDOSE
    if Flag.WEAPONS in flags or Flag.VIOLENCE in flags or threat:
        return Category.VIOLENCE
    if Flag.SUICIDE_RISK in flags:
        return Category.SUICIDE_RISK
    if Flag.MEDICAL in flags or medical:
        return Category.MEDICAL
    if mental:
        return Category.MENTAL_HEALTH
    if substance:
        return Category.SUBSTANCE_USE
    return Category.WELFARE
