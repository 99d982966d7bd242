//! A bill's custody as a picture (SVG): one lane per party, each event a mark on the lane of whoever
//! possesses the bill after it, the endorsee as a diamond, a pledge as a band from pledge to release.
//! It draws the states the verified replay computed (`CustodyStep`), never re-deriving a rule.

use ebl_core::{Bill, PartyId, Status, Title};
use maud::{html, Markup};

use crate::lang::Lang;
use crate::words::{self, W};

/// One event of the bill, as drawn.
#[derive(Debug)]
pub(super) struct Event<'a> {
    /// `Action::code`.
    pub code: &'static str,
    /// Date and time, short.
    pub when: String,
    /// What happened, in words, for the mark's tooltip.
    pub what: String,
    /// The bill after the event.
    pub state: &'a Bill,
}

// Wide enough for `LANE_LABEL_COLUMNS` at the lane names' 13 px: their picture clips what is wider.
const LABEL_W: u32 = 176;
const STEP_W: u32 = 124;
const LANE_H: u32 = 44;
const TOP: u32 = 52;
const BOTTOM: u32 = 12;

/// The parties that ever possessed, held title to, or took a pledge on the bill, carrier first, in the
/// order they appear.
fn lanes(events: &[Event]) -> Vec<PartyId> {
    let mut lanes: Vec<PartyId> = Vec::new();
    let mut add = |p: PartyId| {
        if !lanes.contains(&p) {
            lanes.push(p);
        }
    };
    for e in events {
        add(e.state.carrier);
        add(e.state.possessor);
        if let Title::Order { endorsee, .. }
        | Title::Straight {
            consignee: endorsee,
        } = &e.state.title
        {
            add(*endorsee);
        }
        if let Status::Pledged(p) = &e.state.status {
            add(p.pledgee);
        }
    }
    lanes
}

/// Terminal-style columns a lane's label may take; a longer name is cut with "…" (the whole of it
/// is the label's tooltip). Chinese characters count two, as they are drawn twice as wide.
const LANE_LABEL_COLUMNS: usize = 22;

fn lane_label(name: &str) -> String {
    if crate::lang::display_width(name) <= LANE_LABEL_COLUMNS {
        return name.to_owned();
    }
    let mut out = String::new();
    for c in name.chars() {
        if crate::lang::display_width(&out) + crate::lang::display_width(&c.to_string())
            > LANE_LABEL_COLUMNS - 1
        {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

fn x(i: usize) -> u32 {
    LABEL_W + STEP_W / 2 + n(i) * STEP_W
}

/// Periods during which the bill was pledged: (first event, event that ended it if any, pledgee, loan).
fn pledge_bands(events: &[Event]) -> Vec<(usize, Option<usize>, PartyId, String)> {
    let mut bands = Vec::new();
    let mut open: Option<(usize, PartyId, String)> = None;
    for (i, e) in events.iter().enumerate() {
        match (&e.state.status, &open) {
            (Status::Pledged(p), None) => open = Some((i, p.pledgee, p.loan.reference.clone())),
            (Status::Pledged(_), Some(_)) => {}
            (_, Some((start, pledgee, loan))) => {
                bands.push((*start, Some(i), *pledgee, loan.clone()));
                open = None;
            }
            (_, None) => {}
        }
    }
    if let Some((start, pledgee, loan)) = open {
        bands.push((start, None, pledgee, loan));
    }
    bands
}

pub(super) fn svg(events: &[Event], name: &dyn Fn(&PartyId) -> String, lang: Lang) -> Markup {
    let lanes = lanes(events);
    let lane_y = |p: &PartyId| -> u32 {
        let at = n(lanes.iter().position(|l| l == p).unwrap_or(0));
        TOP + at * LANE_H + LANE_H / 2
    };
    let width = LABEL_W + n(events.len().max(1)) * STEP_W + 24;
    let height = TOP + n(lanes.len().max(1)) * LANE_H + BOTTOM;
    let mut custody = String::new();
    for (i, e) in events.iter().enumerate() {
        let y = lane_y(&e.state.possessor);
        if i == 0 {
            custody.push_str(&format!("M{} {y}", x(0)));
        } else {
            custody.push_str(&format!(" H{} V{y}", x(i)));
        }
    }
    if let Some(last) = events.last() {
        if !last.state.status.is_terminal() {
            custody.push_str(&format!(" H{}", width - 12));
        }
    }
    // Two pictures side by side: the lanes' names, which stay in view, and the events, which scroll
    // sideways under them on a narrow screen (issue 34: on a phone three of four events were out of sight
    // and, scrolled to, lost the names of their lanes). The events' picture is the same drawing with its
    // view starting where the names end.
    let events_width = width - LABEL_W;
    html! {
        div.timeline-frame {
        svg.timeline-lanes xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {LABEL_W} {height}"))
            width=(LABEL_W) height=(height) aria-hidden="true" {
            @for (row, party) in lanes.iter().enumerate() {
                @let top = TOP + n(row) * LANE_H;
                g.lane-label data-party=(name(party)) {
                    rect x="0" y=(top) width=(LABEL_W) height=(LANE_H) class=(if row.is_multiple_of(2) { "lane-even" } else { "lane-odd" }) {}
                    text x="8" y=(top + LANE_H / 2 + 5) class="lane-name" {
                        (lane_label(&name(party)))
                        title { (name(party)) }
                    }
                }
            }
        }
        div.timeline-scroll {
        svg.timeline xmlns="http://www.w3.org/2000/svg" viewBox=(format!("{LABEL_W} 0 {events_width} {height}"))
            width=(events_width) height=(height) role="img" aria-label=(W::Custody.get(lang)) {
            @for (row, party) in lanes.iter().enumerate() {
                @let top = TOP + n(row) * LANE_H;
                g.lane data-party=(name(party)) {
                    rect x=(LABEL_W) y=(top) width=(events_width) height=(LANE_H) class=(if row.is_multiple_of(2) { "lane-even" } else { "lane-odd" }) {}
                    line x1=(LABEL_W) x2=(width) y1=(top + LANE_H / 2) y2=(top + LANE_H / 2) class="lane-line" {}
                }
            }
            @for (start, end, pledgee, loan) in pledge_bands(events) {
                @let x0 = x(start) - 10;
                @let x1 = end.map_or(width - 12, |e| x(e) + 10);
                g.pledge-band data-pledgee=(name(&pledgee)) {
                    rect x=(x0) y=(lane_y(&pledgee) - 15) width=(x1 - x0) height="30" rx="8" {}
                    text x=(x0 + 6) y=(lane_y(&pledgee) + 26) class="band-label" {
                        (W::Pledge.get(lang)) " " (loan)
                    }
                }
            }
            path.custody d=(custody) {}
            @for (i, e) in events.iter().enumerate() {
                @if let Title::Order { endorsee, .. } = &e.state.title {
                    @let (ex, ey) = (x(i) + 14, lane_y(endorsee));
                    path.title-mark d=(format!("M{ex} {} l6 6 l-6 6 l-6 -6 z", ey - 6)) {
                        title { (W::Title.get(lang)) ": " (name(endorsee)) }
                    }
                }
                text x=(x(i)) y="18" class="event-label" text-anchor="middle" { (words::action(e.code, lang)) }
                text x=(x(i)) y="36" class="event-time" text-anchor="middle" { (e.when) }
                g.event data-action=(e.code) data-possessor=(name(&e.state.possessor)) {
                    circle cx=(x(i)) cy=(lane_y(&e.state.possessor)) r="8" class=(format!("mark mark-{}", e.code.to_ascii_lowercase())) {}
                    title { (e.when) " — " (e.what) }
                }
            }
            @if let Some(last) = events.last() {
                @if last.state.status.is_terminal() {
                    text x=(x(events.len() - 1) + 14) y=(lane_y(&last.state.possessor) - 12) class="terminal" {
                        (words::status(&last.state.status, lang))
                    }
                }
            }
        }
        }
        }
    }
}

/// A count of events or lanes as SVG units (a history long enough not to fit would not be drawn anyway).
fn n(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX / (STEP_W + LANE_H))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_name_is_cut_to_its_lane_by_width_not_by_characters() {
        assert_eq!(lane_label("Harbour Bank"), "Harbour Bank");
        assert_eq!(
            lane_label("宁波港大宗贸易有限公司"),
            "宁波港大宗贸易有限公司"
        );
        let cut = lane_label("浙江宁波港大宗商品国际贸易有限公司");
        assert!(cut.ends_with('…'));
        assert!(crate::lang::display_width(&cut) <= LANE_LABEL_COLUMNS);
        let cut = lane_label("The Mediterranean Shipping Company S.A.");
        assert_eq!(crate::lang::display_width(&cut), LANE_LABEL_COLUMNS);
    }
}
