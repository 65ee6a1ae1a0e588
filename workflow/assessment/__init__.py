"""What the campaign is judged by: incidents, targets, the inspecting group's scores, grades.

- ``incidents``     the incident log: record an incident of a kind the definition names
- ``outside_reports`` reports to outside bodies (铁路部门, 公安机关): recorded; escalated when late
- ``report_status`` which body an incident was reported to, when, by whom, late or not
- ``targets``       target status (目标): zero, reduce, max, rate, judged
- ``unit_counts``   what targets, the assessment and the report count per unit, as of one instant
- ``scores``        the inspecting group enters scores (考核验收); who may score
- ``score_sheets``  the score sheets as the scoring form shows them
- ``grades``        a unit's score, deductions, veto, grade and rank (考核结果)
"""
