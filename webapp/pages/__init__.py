"""The pages, one blueprint each; their templates are in ``templates/<blueprint>/``.

- ``common``          what every page blueprint shares: sign-in, one transaction per engine call,
refusals
- ``forms``           the pages' forms (Flask-WTF, CSRF)
- ``inbox``           every assignee's home page and their done list
- ``items``           one task or rectification: its page and its moves
- ``campaigns``       the campaign list, a campaign with its phase machine, the escalation log
- ``hazards``         the hazard register (隐患台账) and the register form
- ``leaders``         the leader's view
- ``reports``         the report page (charts, A4 print) and its CSV/XLSX files
- ``incidents``       the incident log and its form
- ``scores``          the score sheets of the inspecting group
- ``petitions``       one letter or visit (信访) and marking it processed
- ``letters``         responsibility letters (责任书): one letter (prints on A4), a campaign's list,
issue and sign
- ``account``         the signed-in person's own password (a one-time one must be replaced first);
stand-ins while away (代理), one's own and an administrator's for a person
- ``worklists/``      the work lists' filter bar and saved views: a package, its docstring maps them
- ``decisions/``      many items decided at once (「批量处理」): a package, its docstring maps it
- ``admin/``          the administration pages (「管理」): a package, its docstring maps them
- ``field/``          a field worker's pages on a phone: key sites, check-ins, offline: a package
- ``evidence_store``  evidence files on disk under the instance folder
"""
