"""A stand-in for www.cna.com.tw on 127.0.0.1: test, demo and benchmark infrastructure.

Not part of the crawler: it serves saved real CNA pages, their named rewrites
(:mod:`localcna.variants`) and generated articles so that tests and the offline
demo exercise a real HTTP crawl. Nothing in :mod:`cnaspider` imports it except
the demo tool.
"""
