"""Project Scrapy commands (``COMMANDS_MODULE``): ``crawl`` checks a spider's options first."""
