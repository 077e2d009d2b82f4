"""Reading a chart of web/static/charts.js in a test: its figures table as text, and the bars Chart.js drew
(each bar's length in pixels), so a test checks both what a reader is told and what is drawn."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

FIGURES = """(sel) => [...document.querySelectorAll(sel + ' .chart-figures tbody tr')]
  .map(tr => [...tr.children].map(c => c.textContent))"""
HEAD = """(sel) => [...document.querySelectorAll(sel + ' .chart-figures thead th')].map(c => c.textContent)"""
BARS = """(sel) => {
  const c = Chart.getChart(document.querySelector(sel + ' canvas'));
  const y = c.options.indexAxis === 'y';
  return c.data.datasets.map((ds, i) => ({
    label: ds.label, values: ds.data,
    lengths: c.getDatasetMeta(i).data.map(b => Math.round(Math.abs(y ? b.x - b.base : b.y - b.base))),
  }));
}"""


def wait_drawn(page: Page, sel: str) -> None:
    """The chart in `sel` is drawn: its figure says ready and its canvas has a size."""
    expect(page.locator(f"{sel} figure.chart[data-ready=true] canvas")).to_be_visible()


def figures(page: Page, sel: str) -> list[list[str]]:
    rows: list[list[str]] = page.evaluate(FIGURES, sel)
    return rows


def head(page: Page, sel: str) -> list[str]:
    cols: list[str] = page.evaluate(HEAD, sel)
    return cols


def bars(page: Page, sel: str) -> list[dict[str, Any]]:
    drawn: list[dict[str, Any]] = page.evaluate(BARS, sel)
    return drawn
