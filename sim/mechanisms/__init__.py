"""The mechanisms of the monthly step, one module each, in step order.

=====================  =====================================================
module                 mechanism
=====================  =====================================================
``families``           families' vulnerability moves, awareness, applications
                       and rationing (the family population and its passes)
``budgets``            annual budgets, unspent money, CSR budgets
``councils``           public councils: seats, rotation, the NGOs' voice
``turnover``           key persons leave (ties go dormant), ties renewed
``giving``             business and citizens' donations, endowment gifts
``resource_centres``   NGO resource centres (``rc_model``)
``cluster``            the family-oriented cluster (with its parts
                       ``cluster_banks``: banks and project classes, and
                       ``one_window``: the staged, paid one-window tiers)
``grants``             federal and regional grant competitions
``requests``           NGOs' requests to their municipality (subsidies)
``socio_technological`` proven NGO technologies adopted, funded, spread
``formation``          partnership proposals and acceptance, municipal partner
                       selection (officials' criteria, attention queue by ties)
``perception``         each side's yardstick for requests, satisfaction
``giving_up``          refused NGOs stop asking ("tried and failed")
``delivery``           partnership contributions, money, output, evidence
``organisational_structural`` houses of NGOs, centre with delegated functions
``services``           service capacity, rationing, social orders
``endowments``         endowment returns, deadlines, payouts (275-FZ),
                       the specialised endowment fund
``trust``              the trust network and its monthly update
``mentoring``          volunteer-child mentoring pairs (Stavropol)
``ngo_life``           NGO costs, staff, volunteers, register, deaths, births
``dissolution``        end of partnerships
``recording``          month-end bookkeeping and the time series
=====================  =====================================================

Between ``turnover`` and ``giving`` run ``community_foundations`` (local donations,
named and family funds, local grant competitions) and ``fairs`` (NGO fairs:
business ties, citizens' gifts), the combined mechanisms of issue #12.

Each module holds its mechanism class (a :class:`~sim.mechanisms.base.Mechanism`),
the state only it uses, and its compiled kernels next to the Python that calls
them; the shared arrays are in :class:`sim.state.State`. The order is
``sim.model.CrossSectorModel.loop``.
"""
