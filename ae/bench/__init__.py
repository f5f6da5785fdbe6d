"""The benchmark: `python -m ae.bench` (ae/bench/__main__.py) measures the demo's speed as a visitor sees it, then
under load, and writes docs/speed.md's tables and the README's summary. One module per scenario:

    page        one visitor's page in headless Chromium, action by action
    classroom   a class at once (some pages in Chromium, the rest scripted), and a class pressing Train
    load        /draw under concurrent API clients, while another trains, per concurrency limit
    callbacks   each server callback alone, and the Train tab's goals
    phone       a phone-class CPU and a 4G network (python -m ae.bench.phone)
    train_page  a class training in their own pages (python -m ae.bench.train_page)
    report      the tables; common: what the scenarios share; browser: the Chromium visitor the tests share too
"""
