//! Draws a [stategraph](https://docs.rs/stategraph) graph: as an inline SVG, laid out here,
//! so `cargo doc` shows the picture offline with no script or image fetched from anywhere;
//! and as Mermaid text. Both read one [`Diagram`]: `#[graph]` builds it from the edge list
//! for the generated docs, and `GraphDescription` builds it at run time, so the docs and
//! the running program draw the same graph.
//!
//! The layout is layered, in the manner of Graphviz's `dot`:
//! 1. a depth-first search from `START` finds the back edges of cycles;
//! 2. every vertex is ranked by its longest path from `START` over the other edges, and `END`
//!    goes below everything;
//! 3. an edge that spans several ranks gets a bend point in each rank between, and a back
//!    edge a lane of bend points beside its nodes, so that no line crosses a box;
//! 4. each rank is a row, ordered by barycentre sweeps to cut crossings, then placed by
//!    isotonic regression so that edges run as straight as the rows allow.
//!
//! ```
//! use stategraph_diagram::{Arrow, ArrowKind, Diagram, Vertex};
//!
//! let diagram = Diagram {
//!     name: "answering".to_owned(),
//!     vertices: vec![Vertex::Start, Vertex::Node("answer".to_owned()), Vertex::End],
//!     arrows: vec![
//!         Arrow { from: 0, to: 1, kind: ArrowKind::Direct },
//!         Arrow { from: 1, to: 2, kind: ArrowKind::Direct },
//!     ],
//! };
//! assert!(stategraph_diagram::svg(&diagram).contains(">answer</text>"));
//! assert!(stategraph_diagram::mermaid(&diagram).contains("answer --> __end__"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

use std::collections::VecDeque;
use std::fmt::Write as _;

/// A box of the drawing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Vertex {
    /// Where a run enters.
    Start,
    /// The node of this name.
    Node(String),
    /// Where a run stops.
    End,
}

impl Vertex {
    /// The text in its box: `START`, the node's name, `END`.
    pub fn name(&self) -> &str {
        match self {
            Self::Start => "START",
            Self::Node(name) => name,
            Self::End => "END",
        }
    }

    /// The id Mermaid gives it, as LangGraph's `draw_mermaid` does.
    pub fn mermaid_id(&self) -> &str {
        match self {
            Self::Start => "__start__",
            Self::Node(name) => name,
            Self::End => "__end__",
        }
    }
}

/// How an arrow is drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArrowKind {
    /// An edge: a solid line.
    Direct,
    /// One source of a fan-in: the target waits for all of them.
    Join,
    /// One declared target of the named router: a dashed line labelled with it.
    Routed(String),
}

/// One drawn edge between two vertices (indices into [`Diagram::vertices`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrow {
    /// The vertex it starts at.
    pub from: usize,
    /// The vertex it points to.
    pub to: usize,
    /// How it is drawn.
    pub kind: ArrowKind,
}

/// The graph as vertices and arrows: `START`, the nodes in declaration order, `END`. A
/// fan-in is one arrow per source, a routed edge one per declared target, each arrow once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagram {
    /// The graph's name, for the drawing's title.
    pub name: String,
    /// The boxes.
    pub vertices: Vec<Vertex>,
    /// The arrows between them, indices into `vertices`.
    pub arrows: Vec<Arrow>,
}

impl Diagram {
    /// The shape the layout is written for, whatever the caller built: `START` first, the
    /// nodes in their order, `END` last, and only arrows between those. A diagram is plain
    /// data, so a missing `END` or an arrow to no vertex must not reach an index.
    fn normalized(&self) -> Self {
        let nodes: Vec<usize> = (0..self.vertices.len())
            .filter(|&at| matches!(self.vertices[at], Vertex::Node(_)))
            .collect();
        let end = nodes.len() + 1;
        let place = |at: usize| match self.vertices.get(at)? {
            Vertex::Start => Some(0),
            Vertex::End => Some(end),
            Vertex::Node(_) => nodes.iter().position(|&node| node == at).map(|i| i + 1),
        };
        let mut vertices = vec![Vertex::Start];
        vertices.extend(nodes.iter().map(|&at| self.vertices[at].clone()));
        vertices.push(Vertex::End);
        let arrows = self
            .arrows
            .iter()
            .filter_map(|arrow| {
                Some(Arrow {
                    from: place(arrow.from)?,
                    to: place(arrow.to)?,
                    kind: arrow.kind.clone(),
                })
            })
            .collect();
        Self {
            name: self.name.clone(),
            vertices,
            arrows,
        }
    }

    fn outgoing(&self) -> Vec<Vec<usize>> {
        let mut outgoing = vec![Vec::new(); self.vertices.len()];
        for (index, arrow) in self.arrows.iter().enumerate() {
            outgoing[arrow.from].push(index);
        }
        outgoing
    }
}

/// The diagram as Mermaid flowchart text, as LangGraph's `draw_mermaid` gives it: the same
/// vertices and arrows as [`svg`].
pub fn mermaid(diagram: &Diagram) -> String {
    let mut text = String::from("flowchart TD\n");
    for vertex in &diagram.vertices {
        // Writing to a `String` cannot fail.
        let _ = match vertex {
            Vertex::Start => writeln!(text, "    __start__([START])"),
            Vertex::End => writeln!(text, "    __end__([END])"),
            Vertex::Node(name) => writeln!(text, "    {name}[{name}]"),
        };
    }
    for arrow in &diagram.arrows {
        let (Some(from), Some(to)) = (
            diagram.vertices.get(arrow.from),
            diagram.vertices.get(arrow.to),
        ) else {
            continue;
        };
        let (from, to) = (from.mermaid_id(), to.mermaid_id());
        let _ = match &arrow.kind {
            ArrowKind::Direct => writeln!(text, "    {from} --> {to}"),
            ArrowKind::Join => writeln!(text, "    {from} -- join --> {to}"),
            ArrowKind::Routed(router) => writeln!(text, "    {from} -. {router} .-> {to}"),
        };
    }
    text
}

/// Which arrows close a cycle: those a depth-first search from `START` (then from any vertex
/// it did not reach) meets while their target is still on the stack. Self-loops included.
pub(crate) fn back_arrows(diagram: &Diagram) -> Vec<bool> {
    const UNSEEN: u8 = 0;
    const ON_STACK: u8 = 1;
    const DONE: u8 = 2;
    let outgoing = diagram.outgoing();
    let mut state = vec![UNSEEN; diagram.vertices.len()];
    let mut back = vec![false; diagram.arrows.len()];
    for root in 0..diagram.vertices.len() {
        if state[root] != UNSEEN {
            continue;
        }
        state[root] = ON_STACK;
        let mut stack = vec![(root, 0)];
        while let Some(top) = stack.last_mut() {
            let vertex = top.0;
            let next = outgoing[vertex].get(top.1).copied();
            top.1 += 1;
            match next {
                Some(arrow) => {
                    let to = diagram.arrows[arrow].to;
                    match state[to] {
                        UNSEEN => {
                            state[to] = ON_STACK;
                            stack.push((to, 0));
                        }
                        ON_STACK => back[arrow] = true,
                        _ => {}
                    }
                }
                None => {
                    state[vertex] = DONE;
                    stack.pop();
                }
            }
        }
    }
    back
}

/// Each vertex's rank: its longest path from a source over the arrows that are not `back`;
/// `END` one below the lowest node.
pub(crate) fn ranks(diagram: &Diagram, back: &[bool]) -> Vec<usize> {
    let count = diagram.vertices.len();
    let outgoing = diagram.outgoing();
    let mut indegree = vec![0usize; count];
    for (arrow, _) in diagram.arrows.iter().enumerate().filter(|(a, _)| !back[*a]) {
        indegree[diagram.arrows[arrow].to] += 1;
    }
    let mut rank = vec![0usize; count];
    let mut ready: VecDeque<usize> = (0..count).filter(|&v| indegree[v] == 0).collect();
    while let Some(vertex) = ready.pop_front() {
        for &arrow in outgoing[vertex].iter().filter(|&&a| !back[a]) {
            let to = diagram.arrows[arrow].to;
            rank[to] = rank[to].max(rank[vertex] + 1);
            indegree[to] -= 1;
            if indegree[to] == 0 {
                ready.push_back(to);
            }
        }
    }
    let end = count - 1;
    rank[end] = rank[..end].iter().copied().max().unwrap_or(0) + 1;
    rank
}

const MARGIN: f64 = 16.0;
const BOX_HEIGHT: f64 = 34.0;
const ROW_GAP: f64 = 52.0;
/// Between two boxes of a row.
const BOX_GAP: f64 = 36.0;
/// Between a bend point and its neighbours.
const BEND_GAP: f64 = 18.0;
/// 13px monospace: 0.6em a character.
const NAME_CHAR: f64 = 7.8;
/// 11px monospace.
const LABEL_CHAR: f64 = 6.6;
const LABEL_HEIGHT: f64 = 13.0;
/// How far a self-loop bulges right of its box.
const LOOP_BULGE: f64 = 30.0;

fn box_width(vertex: &Vertex) -> f64 {
    match vertex {
        Vertex::Start | Vertex::End => 76.0,
        Vertex::Node(name) => (name.chars().count() as f64 * NAME_CHAR + 28.0).max(76.0),
    }
}

fn label_width(text: &str) -> f64 {
    text.chars().count() as f64 * LABEL_CHAR
}

fn router(arrow: &Arrow) -> Option<&str> {
    match &arrow.kind {
        ArrowKind::Routed(router) => Some(router),
        _ => None,
    }
}

/// A place in a row: a vertex's box, or a point an edge bends through.
#[derive(Clone, Debug)]
struct Slot {
    row: usize,
    vertex: Option<usize>,
    /// Room left and right of `x`.
    left: f64,
    right: f64,
    x: f64,
}

/// The diagram laid out: ranks, rows in order, and every slot's `x`.
pub(crate) struct Layout {
    pub(crate) rank: Vec<usize>,
    /// Arrows drawn upward (or onto their own source), through a lane to the right.
    pub(crate) back: Vec<bool>,
    slots: Vec<Slot>,
    rows: Vec<Vec<usize>>,
    vertex_slot: Vec<usize>,
    /// Per arrow, the slots it passes through, source first.
    chains: Vec<Vec<usize>>,
}

impl Layout {
    pub(crate) fn of(diagram: &Diagram) -> Self {
        let back = back_arrows(diagram);
        let rank = ranks(diagram, &back);
        // An edge out of `END` (reported elsewhere) points up once `END` is at the bottom.
        let back: Vec<bool> = diagram
            .arrows
            .iter()
            .map(|arrow| rank[arrow.to] <= rank[arrow.from])
            .collect();
        let mut layout = Self {
            rows: vec![Vec::new(); rank.iter().copied().max().unwrap_or(0) + 1],
            rank,
            back,
            slots: Vec::new(),
            vertex_slot: Vec::new(),
            chains: Vec::new(),
        };
        for (index, vertex) in diagram.vertices.iter().enumerate() {
            let half = box_width(vertex) / 2.0;
            let self_loop = diagram
                .arrows
                .iter()
                .filter(|arrow| arrow.from == index && arrow.to == index)
                .map(|arrow| LOOP_BULGE + 6.0 + router(arrow).map_or(0.0, label_width))
                .fold(0.0, f64::max);
            let slot = layout.add_slot(layout.rank[index], Some(index), half, half + self_loop);
            layout.vertex_slot.push(slot);
        }
        for (index, arrow) in diagram.arrows.iter().enumerate() {
            let from = layout.vertex_slot[arrow.from];
            let to = layout.vertex_slot[arrow.to];
            let (low, high) = (layout.rank[arrow.from], layout.rank[arrow.to]);
            let chain = if arrow.from == arrow.to {
                vec![from]
            } else if layout.back[index] {
                // A lane from the source's row up to the target's, right of both.
                let mut chain = vec![from];
                for row in (high..=low).rev() {
                    let label = if row == low {
                        router(arrow).map_or(0.0, |text| label_width(text) + 8.0)
                    } else {
                        0.0
                    };
                    chain.push(layout.add_slot(row, None, label, 0.0));
                }
                chain.push(to);
                chain
            } else {
                let mut chain = vec![from];
                for row in low + 1..high {
                    chain.push(layout.add_slot(row, None, 0.0, 0.0));
                }
                chain.push(to);
                chain
            };
            layout.chains.push(chain);
        }
        layout.order_rows();
        layout.place();
        layout
    }

    fn add_slot(&mut self, row: usize, vertex: Option<usize>, left: f64, right: f64) -> usize {
        self.slots.push(Slot {
            row,
            vertex,
            left,
            right,
            x: 0.0,
        });
        let slot = self.slots.len() - 1;
        self.rows[row].push(slot);
        slot
    }

    /// Pairs of slots joined by a line between two adjacent rows: `(upper, lower)`.
    fn links(&self) -> Vec<(usize, usize)> {
        let mut links = Vec::new();
        for chain in &self.chains {
            for pair in chain.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                match (self.slots[a].row, self.slots[b].row) {
                    (ra, rb) if rb == ra + 1 => links.push((a, b)),
                    (ra, rb) if ra == rb + 1 => links.push((b, a)),
                    _ => {}
                }
            }
        }
        links
    }

    /// Per slot, its linked slots in the row above and in the row below.
    fn neighbours(&self) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
        let mut above = vec![Vec::new(); self.slots.len()];
        let mut below = vec![Vec::new(); self.slots.len()];
        for (upper, lower) in self.links() {
            above[lower].push(upper);
            below[upper].push(lower);
        }
        (above, below)
    }

    fn positions(&self) -> Vec<usize> {
        let mut position = vec![0; self.slots.len()];
        for row in &self.rows {
            for (index, &slot) in row.iter().enumerate() {
                position[slot] = index;
            }
        }
        position
    }

    pub(crate) fn crossings(&self) -> usize {
        let position = self.positions();
        let mut by_row: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.rows.len()];
        for (upper, lower) in self.links() {
            by_row[self.slots[upper].row].push((position[upper], position[lower]));
        }
        let mut crossings = 0;
        for links in &by_row {
            for (i, &(a, b)) in links.iter().enumerate() {
                crossings += links[i + 1..]
                    .iter()
                    .filter(|&&(c, d)| (a < c && b > d) || (a > c && b < d))
                    .count();
            }
        }
        crossings
    }

    /// The rows one sweep visits: downwards from the second row, or upwards from the one
    /// before last, each placed against the row it has just left.
    fn sweep_order(&self, down: bool) -> Vec<usize> {
        if down {
            (1..self.rows.len()).collect()
        } else {
            (0..self.rows.len().saturating_sub(1)).rev().collect()
        }
    }

    /// Barycentre sweeps, down then up, keeping the order with the fewest crossings.
    fn order_rows(&mut self) {
        let (above, below) = self.neighbours();
        self.keep_lanes_beside_their_nodes();
        let mut best = (self.crossings(), self.rows.clone());
        for sweep in 0..8 {
            let down = sweep % 2 == 0;
            let rows = self.sweep_order(down);
            for row in rows {
                let position = self.positions();
                let mut keyed: Vec<(f64, usize)> = self.rows[row]
                    .iter()
                    .map(|&slot| {
                        let linked = if down { &above[slot] } else { &below[slot] };
                        let neighbours: Vec<f64> =
                            linked.iter().map(|&other| position[other] as f64).collect();
                        let key = if neighbours.is_empty() {
                            position[slot] as f64
                        } else {
                            neighbours.iter().sum::<f64>() / neighbours.len() as f64
                        };
                        (key, slot)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
                self.rows[row] = keyed.into_iter().map(|(_, slot)| slot).collect();
                self.keep_lanes_beside_their_nodes();
            }
            let crossings = self.crossings();
            if crossings < best.0 {
                best = (crossings, self.rows.clone());
            }
        }
        self.rows = best.1;
    }

    /// A back edge leaves its source and enters its target sideways: the lane's first and
    /// last points sit right after those boxes, so the horizontal strokes cross no box.
    fn keep_lanes_beside_their_nodes(&mut self) {
        for (index, chain) in self.chains.iter().enumerate() {
            if !self.back[index] || chain.len() < 3 {
                continue;
            }
            let ends = [
                (chain[1], chain[0]),
                (chain[chain.len() - 2], chain[chain.len() - 1]),
            ];
            for (lane, vertex) in ends {
                let row = &mut self.rows[self.slots[lane].row];
                row.retain(|&slot| slot != lane);
                let at = row
                    .iter()
                    .position(|&slot| slot == vertex)
                    .map_or(row.len(), |p| p + 1);
                row.insert(at, lane);
            }
        }
    }

    fn gap(&self, a: usize, b: usize) -> f64 {
        let boxes = self.slots[a].vertex.is_some() && self.slots[b].vertex.is_some();
        self.slots[a].right + self.slots[b].left + if boxes { BOX_GAP } else { BEND_GAP }
    }

    /// Sweeps that pull each slot toward the mean `x` of its neighbours in the row above
    /// (then below), keeping the order and the gaps: an isotonic regression per row.
    fn place(&mut self) {
        for row in &self.rows {
            let mut x = 0.0;
            for (index, &slot) in row.iter().enumerate() {
                if index > 0 {
                    x += self.gap(row[index - 1], slot);
                }
                self.slots[slot].x = x;
            }
        }
        let (above, below) = self.neighbours();
        for sweep in 0..12 {
            let down = sweep % 2 == 0;
            let rows = self.sweep_order(down);
            for row in rows {
                let slots = self.rows[row].clone();
                let wanted: Vec<f64> = slots
                    .iter()
                    .map(|&slot| {
                        let linked = if down { &above[slot] } else { &below[slot] };
                        let neighbours: Vec<f64> =
                            linked.iter().map(|&other| self.slots[other].x).collect();
                        if neighbours.is_empty() {
                            self.slots[slot].x
                        } else {
                            neighbours.iter().sum::<f64>() / neighbours.len() as f64
                        }
                    })
                    .collect();
                let mut offsets = vec![0.0; slots.len()];
                for index in 1..slots.len() {
                    offsets[index] = offsets[index - 1] + self.gap(slots[index - 1], slots[index]);
                }
                let shifted: Vec<f64> = wanted.iter().zip(&offsets).map(|(w, o)| w - o).collect();
                for ((slot, y), offset) in slots.iter().zip(isotonic(&shifted)).zip(&offsets) {
                    self.slots[*slot].x = y + offset;
                }
            }
        }
        let left = self
            .slots
            .iter()
            .map(|slot| slot.x - slot.left)
            .fold(f64::INFINITY, f64::min);
        for slot in &mut self.slots {
            slot.x += MARGIN - left;
        }
    }

    pub(crate) fn width(&self) -> f64 {
        self.slots
            .iter()
            .map(|slot| slot.x + slot.right)
            .fold(0.0, f64::max)
            + MARGIN
    }

    pub(crate) fn height(&self) -> f64 {
        2.0 * MARGIN + self.rows.len() as f64 * BOX_HEIGHT + (self.rows.len() - 1) as f64 * ROW_GAP
    }

    fn center_y(&self, row: usize) -> f64 {
        MARGIN + row as f64 * (BOX_HEIGHT + ROW_GAP) + BOX_HEIGHT / 2.0
    }

    /// The `x` of a vertex's centre.
    pub(crate) fn vertex_x(&self, vertex: usize) -> f64 {
        self.slots[self.vertex_slot[vertex]].x
    }
}

/// The nondecreasing sequence closest to `values` in least squares (pool adjacent violators).
fn isotonic(values: &[f64]) -> Vec<f64> {
    let mut blocks: Vec<(f64, usize)> = Vec::new();
    for &value in values {
        blocks.push((value, 1));
        while let [.., (sum_a, count_a), (sum_b, count_b)] = blocks[..] {
            if sum_a / count_a as f64 <= sum_b / count_b as f64 {
                break;
            }
            blocks.pop();
            blocks.pop();
            blocks.push((sum_a + sum_b, count_a + count_b));
        }
    }
    blocks
        .into_iter()
        .flat_map(|(sum, count)| std::iter::repeat_n(sum / count as f64, count))
        .collect()
}

/// `&`, `<`, `>` and quotes escaped, for text and attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Spreads `count` ports over a box side of length `side`, centred on `at`.
fn spread(at: f64, side: f64, count: usize, index: usize) -> f64 {
    if count < 2 {
        return at;
    }
    let step = ((side - 16.0) / (count - 1) as f64).min(14.0);
    at + (index as f64 - (count - 1) as f64 / 2.0) * step
}

/// A label's box: `(left, top, right, bottom)`.
type Rect = (f64, f64, f64, f64);

fn overlaps(a: Rect, b: Rect) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

struct Label {
    text: String,
    rect: Rect,
}

/// The drawing: a `<div>` holding one `<svg>`, one element a line and no line indented or
/// blank, so that rustdoc's Markdown passes it through as an HTML block.
/// The diagram as an SVG inside a `<div>`, one HTML block that rustdoc's Markdown passes
/// through as it is.
pub fn svg(diagram: &Diagram) -> String {
    let diagram = &diagram.normalized();
    let layout = Layout::of(diagram);
    let (width, height) = (layout.width(), layout.height());
    let id = format!("graph-{}", escape(&diagram.name));
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<div class="graph-drawing" style="overflow-x:auto;margin:0.5em 0 1em">"#
    );
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" role="img" aria-labelledby="{id}-title" font-family="ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono',monospace">"#
    );
    let _ = writeln!(
        out,
        "<title id=\"{id}-title\">The graph {}: {} nodes, {} edges</title>",
        escape(&diagram.name),
        diagram
            .vertices
            .iter()
            .filter(|vertex| matches!(vertex, Vertex::Node(_)))
            .count(),
        diagram.arrows.len()
    );
    let _ = writeln!(
        out,
        r##"<defs><marker id="{id}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#4a5568"/></marker></defs>"##
    );
    let _ = writeln!(
        out,
        r##"<rect width="100%" height="100%" rx="6" fill="#ffffff" stroke="#e2e8f0"/>"##
    );
    let mut labels: Vec<Label> = Vec::new();
    draw_arrows(&mut out, &mut labels, diagram, &layout, &id);
    for (index, vertex) in diagram.vertices.iter().enumerate() {
        draw_vertex(&mut out, &layout, index, vertex);
    }
    for label in &labels {
        let (left, _, _, bottom) = label.rect;
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" font-style="italic" fill="#4a5568" stroke="#ffffff" stroke-width="3" paint-order="stroke">{}</text>"##,
            left + 1.0,
            bottom - 3.0,
            escape(&label.text)
        );
    }
    out.push_str("</svg>\n</div>\n");
    out
}

fn draw_vertex(out: &mut String, layout: &Layout, index: usize, vertex: &Vertex) {
    let x = layout.vertex_x(index);
    let y = layout.center_y(layout.rank[index]);
    let width = box_width(vertex);
    let (left, top) = (x - width / 2.0, y - BOX_HEIGHT / 2.0);
    let (shape, text_fill, weight) = match vertex {
        Vertex::Start => (
            format!(
                r##"<rect x="{left:.1}" y="{top:.1}" width="{width:.1}" height="{BOX_HEIGHT:.1}" rx="17" fill="#2d3748"/>"##
            ),
            "#ffffff",
            "bold",
        ),
        Vertex::End => (
            format!(
                r##"<rect x="{left:.1}" y="{top:.1}" width="{width:.1}" height="{BOX_HEIGHT:.1}" rx="17" fill="#ffffff" stroke="#2d3748" stroke-width="3"/>"##
            ),
            "#2d3748",
            "bold",
        ),
        Vertex::Node(_) => (
            format!(
                r##"<rect x="{left:.1}" y="{top:.1}" width="{width:.1}" height="{BOX_HEIGHT:.1}" rx="5" fill="#ebf4ff" stroke="#3c6ea5" stroke-width="1.5"/>"##
            ),
            "#1a202c",
            "normal",
        ),
    };
    let _ = writeln!(out, "{shape}");
    let _ = writeln!(
        out,
        r#"<text x="{x:.1}" y="{:.1}" font-size="13" font-weight="{weight}" text-anchor="middle" fill="{text_fill}">{}</text>"#,
        y + 4.5,
        escape(vertex.name())
    );
}

/// Where each arrow leaves and enters its boxes: `x` on the bottom and top sides for arrows
/// going down, `y` on the right side for back edges; spread so arrowheads do not meet.
struct Ports {
    out_x: Vec<f64>,
    in_x: Vec<f64>,
    out_y: Vec<f64>,
    in_y: Vec<f64>,
}

fn ports(diagram: &Diagram, layout: &Layout) -> Ports {
    let count = diagram.arrows.len();
    let mut ports = Ports {
        out_x: vec![0.0; count],
        in_x: vec![0.0; count],
        out_y: vec![0.0; count],
        in_y: vec![0.0; count],
    };
    let next_x = |arrow: usize, from_end: bool| {
        let chain = &layout.chains[arrow];
        let slot = if from_end {
            chain[chain.len().saturating_sub(2)]
        } else {
            chain[1.min(chain.len() - 1)]
        };
        layout.slots[slot].x
    };
    for (vertex, kind) in diagram.vertices.iter().enumerate() {
        let x = layout.vertex_x(vertex);
        let y = layout.center_y(layout.rank[vertex]);
        let width = box_width(kind);
        let mut down: Vec<usize> = (0..count)
            .filter(|&a| diagram.arrows[a].from == vertex && !layout.back[a])
            .collect();
        down.sort_by(|&a, &b| next_x(a, false).total_cmp(&next_x(b, false)));
        for (index, &arrow) in down.iter().enumerate() {
            ports.out_x[arrow] = spread(x, width, down.len(), index);
        }
        let mut into: Vec<usize> = (0..count)
            .filter(|&a| diagram.arrows[a].to == vertex && !layout.back[a])
            .collect();
        into.sort_by(|&a, &b| next_x(a, true).total_cmp(&next_x(b, true)));
        for (index, &arrow) in into.iter().enumerate() {
            ports.in_x[arrow] = spread(x, width, into.len(), index);
        }
        // Right side, top to bottom: back edges coming in, then going out.
        let side: Vec<(usize, bool)> = (0..count)
            .filter(|&a| layout.back[a] && diagram.arrows[a].from != diagram.arrows[a].to)
            .filter_map(|a| {
                let arrow = &diagram.arrows[a];
                match (arrow.to == vertex, arrow.from == vertex) {
                    (true, _) => Some((a, true)),
                    (_, true) => Some((a, false)),
                    _ => None,
                }
            })
            .collect();
        let mut side = side;
        side.sort_by_key(|&(_, incoming)| !incoming);
        for (index, &(arrow, incoming)) in side.iter().enumerate() {
            let at = spread(y, BOX_HEIGHT + 6.0, side.len(), index);
            if incoming {
                ports.in_y[arrow] = at;
            } else {
                ports.out_y[arrow] = at;
            }
        }
    }
    ports
}

fn draw_arrows(
    out: &mut String,
    labels: &mut Vec<Label>,
    diagram: &Diagram,
    layout: &Layout,
    id: &str,
) {
    let ports = ports(diagram, layout);
    let half_gap = ROW_GAP / 2.0;
    for (index, arrow) in diagram.arrows.iter().enumerate() {
        let chain = &layout.chains[index];
        let router = router(arrow);
        let mut path = String::new();
        let from_x = layout.vertex_x(arrow.from);
        let from_y = layout.center_y(layout.rank[arrow.from]);
        let from_right = from_x + box_width(&diagram.vertices[arrow.from]) / 2.0;
        if arrow.from == arrow.to {
            let (right, y) = (from_right, from_y);
            let _ = write!(
                path,
                "M{right:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {right:.1},{:.1}",
                y - 7.0,
                right + LOOP_BULGE,
                y - 26.0,
                right + LOOP_BULGE,
                y + 26.0,
                y + 7.0
            );
            if let Some(text) = router {
                let left = right + LOOP_BULGE - 2.0;
                place_label(labels, text, &[(left, y - LABEL_HEIGHT / 2.0)]);
            }
        } else if layout.back[index] {
            // Out of the source's right side, up the lane, into the target's right side.
            let lane: Vec<f64> = chain[1..chain.len() - 1]
                .iter()
                .map(|&slot| layout.slots[slot].x)
                .collect();
            let rows: Vec<usize> = chain[1..chain.len() - 1]
                .iter()
                .map(|&slot| layout.slots[slot].row)
                .collect();
            let (start_y, end_y) = (ports.out_y[index], ports.in_y[index]);
            let to_right = layout.vertex_x(arrow.to) + box_width(&diagram.vertices[arrow.to]) / 2.0;
            let first = lane[0];
            let radius = ((first - from_right) / 2.0).clamp(0.0, 8.0);
            let _ = write!(
                path,
                "M{from_right:.1},{start_y:.1} L{:.1},{start_y:.1} Q{first:.1},{start_y:.1} {first:.1},{:.1}",
                first - radius,
                start_y - radius
            );
            for step in 1..lane.len() {
                let (x0, x1) = (lane[step - 1], lane[step]);
                let top = layout.center_y(rows[step - 1]) - BOX_HEIGHT / 2.0;
                let bottom = layout.center_y(rows[step]) + BOX_HEIGHT / 2.0;
                let _ = write!(
                    path,
                    " L{x0:.1},{top:.1} C{x0:.1},{:.1} {x1:.1},{:.1} {x1:.1},{bottom:.1}",
                    top - half_gap,
                    bottom + half_gap
                );
            }
            let last = lane[lane.len() - 1];
            let radius = ((last - to_right) / 2.0).clamp(0.0, 8.0);
            let _ = write!(
                path,
                " L{last:.1},{:.1} Q{last:.1},{end_y:.1} {:.1},{end_y:.1} L{to_right:.1},{end_y:.1}",
                end_y + radius,
                last - radius
            );
            if let Some(text) = router {
                place_label(
                    labels,
                    text,
                    &[(from_right + 4.0, start_y - LABEL_HEIGHT - 1.0)],
                );
            }
        } else {
            let mut x = ports.out_x[index];
            let mut y = from_y + BOX_HEIGHT / 2.0;
            let _ = write!(path, "M{x:.1},{y:.1}");
            let mut label_at = None;
            for (step, &slot) in chain.iter().enumerate().skip(1) {
                let last = step == chain.len() - 1;
                let next_x = if last {
                    ports.in_x[index]
                } else {
                    layout.slots[slot].x
                };
                let next_y = layout.center_y(layout.slots[slot].row) - BOX_HEIGHT / 2.0;
                let _ = write!(
                    path,
                    " C{x:.1},{:.1} {next_x:.1},{:.1} {next_x:.1},{next_y:.1}",
                    y + half_gap,
                    next_y - half_gap
                );
                if label_at.is_none() {
                    // Points along this first curve, middle first.
                    label_at = Some(
                        [0.5, 0.3, 0.7, 0.15, 0.85].map(|t| bezier((x, y), (next_x, next_y), t)),
                    );
                }
                x = next_x;
                y = next_y;
                if !last {
                    y += BOX_HEIGHT;
                    let _ = write!(path, " L{x:.1},{y:.1}");
                }
            }
            if let (Some(text), Some(points)) = (router, label_at) {
                let width = label_width(text);
                let candidates: Vec<(f64, f64)> = points
                    .iter()
                    .map(|&(px, py)| (px - width / 2.0, py - LABEL_HEIGHT / 2.0))
                    .collect();
                place_label(labels, text, &candidates);
            }
        }
        let dash = if router.is_some() {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r##"<path d="{path}" fill="none" stroke="#4a5568" stroke-width="1.5"{dash} marker-end="url(#{id}-arrow)"/>"##
        );
    }
}

/// A point of the vertical-tangent cubic from `a` to `b` at `t`.
fn bezier(a: (f64, f64), b: (f64, f64), t: f64) -> (f64, f64) {
    let u = 1.0 - t;
    let x = u * u * u * a.0 + 3.0 * u * u * t * a.0 + 3.0 * u * t * t * b.0 + t * t * t * b.0;
    let c0 = a.1 + ROW_GAP / 2.0;
    let c1 = b.1 - ROW_GAP / 2.0;
    let y = u * u * u * a.1 + 3.0 * u * u * t * c0 + 3.0 * u * t * t * c1 + t * t * t * b.1;
    (x, y)
}

/// Places `text` at the first of `candidates` (top-left corners) that overlaps no label
/// placed before; none if a label with the same text already overlaps the first (one
/// router's label then names both of its edges).
fn place_label(labels: &mut Vec<Label>, text: &str, candidates: &[(f64, f64)]) {
    let width = label_width(text) + 2.0;
    let rect = |(x, y): (f64, f64)| (x, y, x + width, y + LABEL_HEIGHT);
    let Some(&first) = candidates.first() else {
        return;
    };
    if labels
        .iter()
        .any(|label| label.text == text && overlaps(label.rect, rect(first)))
    {
        return;
    }
    let chosen = candidates
        .iter()
        .copied()
        .find(|&at| labels.iter().all(|label| !overlaps(label.rect, rect(at))))
        .unwrap_or(first);
    labels.push(Label {
        text: text.to_owned(),
        rect: rect(chosen),
    });
}

#[cfg(test)]
mod tests {
    use super::{Arrow, ArrowKind, Diagram, Layout, Vertex, back_arrows, ranks, svg};

    /// `START`, `nodes`, `END`, and arrows `(from, to, kind)` by name: kind `""` is an
    /// edge, `"join"` a fan-in's, any other a router's.
    fn diagram(nodes: &[&str], arrows: &[(&str, &str, &str)]) -> Diagram {
        let mut vertices = vec![Vertex::Start];
        vertices.extend(nodes.iter().map(|name| Vertex::Node((*name).to_owned())));
        vertices.push(Vertex::End);
        let index = |name: &str| {
            vertices
                .iter()
                .position(|vertex| vertex.name() == name)
                .unwrap()
        };
        let arrows = arrows
            .iter()
            .map(|(from, to, kind)| Arrow {
                from: index(from),
                to: index(to),
                kind: match *kind {
                    "" => ArrowKind::Direct,
                    "join" => ArrowKind::Join,
                    router => ArrowKind::Routed(router.to_owned()),
                },
            })
            .collect();
        Diagram {
            name: "g".to_owned(),
            vertices,
            arrows,
        }
    }

    /// Each vertex's rank, by name.
    fn ranks_of(diagram: &Diagram) -> Vec<(String, usize)> {
        let rank = ranks(diagram, &back_arrows(diagram));
        diagram
            .vertices
            .iter()
            .zip(rank)
            .map(|(vertex, rank)| (vertex.name().to_owned(), rank))
            .collect()
    }

    fn named(pairs: &[(&str, usize)]) -> Vec<(String, usize)> {
        pairs.iter().map(|(n, r)| ((*n).to_owned(), *r)).collect()
    }

    /// Every tag closed in order, nothing left open.
    fn assert_balanced(svg: &str) {
        let mut open: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let end = start + rest[start..].find('>').expect("an unterminated tag");
            let tag = &rest[start + 1..end];
            rest = &rest[end + 1..];
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if let Some(closing) = tag.strip_prefix('/') {
                let closing = closing.trim();
                assert_eq!(open.pop().as_deref(), Some(closing), "in {svg}");
            } else if !tag.ends_with('/') {
                open.push(name);
            }
        }
        assert!(open.is_empty(), "unclosed {open:?} in {svg}");
    }

    #[test]
    fn a_chain_ranks_one_node_a_row() {
        // START -> a -> b -> c -> END
        let d = diagram(
            &["a", "b", "c"],
            &[
                ("START", "a", ""),
                ("a", "b", ""),
                ("b", "c", ""),
                ("c", "END", ""),
            ],
        );
        assert_eq!(
            ranks_of(&d),
            named(&[("START", 0), ("a", 1), ("b", 2), ("c", 3), ("END", 4)])
        );
    }

    #[test]
    fn a_fan_out_shares_a_row_and_its_join_goes_below_the_longest_branch() {
        // START -> a -> [b, c], c -> d, [b, d] -> e -> END
        let d = diagram(
            &["a", "b", "c", "d", "e"],
            &[
                ("START", "a", ""),
                ("a", "b", ""),
                ("a", "c", ""),
                ("c", "d", ""),
                ("b", "e", "join"),
                ("d", "e", "join"),
                ("e", "END", ""),
            ],
        );
        assert_eq!(
            ranks_of(&d),
            named(&[
                ("START", 0),
                ("a", 1),
                ("b", 2),
                ("c", 2),
                ("d", 3),
                ("e", 4),
                ("END", 5)
            ])
        );
    }

    #[test]
    fn a_cycle_is_ranked_without_its_back_edge() {
        // START -> a -> b -> c, c -> again ? [a, END]
        let d = diagram(
            &["a", "b", "c"],
            &[
                ("START", "a", ""),
                ("a", "b", ""),
                ("b", "c", ""),
                ("c", "a", "again"),
                ("c", "END", "again"),
            ],
        );
        let back = back_arrows(&d);
        let backs: Vec<(&str, &str)> = d
            .arrows
            .iter()
            .zip(&back)
            .filter(|(_, back)| **back)
            .map(|(arrow, _)| (d.vertices[arrow.from].name(), d.vertices[arrow.to].name()))
            .collect();
        assert_eq!(backs, [("c", "a")]);
        assert_eq!(
            ranks_of(&d),
            named(&[("START", 0), ("a", 1), ("b", 2), ("c", 3), ("END", 4)])
        );
    }

    #[test]
    fn a_self_loop_is_a_back_edge() {
        // START -> a -> again ? [a, END]
        let d = diagram(
            &["a"],
            &[
                ("START", "a", ""),
                ("a", "a", "again"),
                ("a", "END", "again"),
            ],
        );
        assert_eq!(back_arrows(&d), [false, true, false]);
        assert_eq!(ranks_of(&d), named(&[("START", 0), ("a", 1), ("END", 2)]));
    }

    #[test]
    fn crossed_branches_are_uncrossed() {
        // Declared so that the first order crosses: `a` feeds `d`, `b` feeds `c`.
        // START -> [a, b], a -> d, b -> c, [c, d] -> END
        let d = diagram(
            &["a", "b", "c", "d"],
            &[
                ("START", "a", ""),
                ("START", "b", ""),
                ("a", "d", ""),
                ("b", "c", ""),
                ("c", "END", "join"),
                ("d", "END", "join"),
            ],
        );
        assert_eq!(Layout::of(&d).crossings(), 0);
    }

    #[test]
    fn boxes_of_a_row_do_not_overlap() {
        // START -> a -> [b, c, e], [b, c] -> d, e -> route ? [a, END], d -> END
        let d = diagram(
            &["a", "b", "c", "d", "e"],
            &[
                ("START", "a", ""),
                ("a", "b", ""),
                ("a", "c", ""),
                ("a", "e", ""),
                ("b", "d", "join"),
                ("c", "d", "join"),
                ("e", "a", "route"),
                ("e", "END", "route"),
                ("d", "END", ""),
            ],
        );
        let layout = Layout::of(&d);
        for row in &layout.rows {
            for pair in row.windows(2) {
                let (a, b) = (&layout.slots[pair[0]], &layout.slots[pair[1]]);
                assert!(a.x + a.right < b.x - b.left, "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn the_svg_names_every_node_and_is_well_formed() {
        // START -> route ? [plan, END], plan -> [search, draft], [search, draft] -> merge,
        // merge -> again ? [plan, merge, END]
        let d = diagram(
            &["plan", "search", "draft", "merge"],
            &[
                ("START", "plan", "route"),
                ("START", "END", "route"),
                ("plan", "search", ""),
                ("plan", "draft", ""),
                ("search", "merge", "join"),
                ("draft", "merge", "join"),
                ("merge", "plan", "again"),
                ("merge", "merge", "again"),
                ("merge", "END", "again"),
            ],
        );
        let svg = svg(&d);
        for name in ["START", "plan", "search", "draft", "merge", "END"] {
            assert!(
                svg.contains(&format!(">{name}</text>")),
                "no {name} in {svg}"
            );
        }
        assert_eq!(svg.matches("marker-end=").count(), d.arrows.len());
        assert_eq!(svg.matches("stroke-dasharray").count(), 5);
        assert_balanced(&svg);
        assert!(svg.starts_with("<div") && svg.ends_with("</div>\n"));
        // Read by rustdoc's Markdown as one HTML block, never as a paragraph or code.
        assert!(!svg.contains("\n\n"), "{svg}");
        assert!(svg.lines().all(|line| !line.starts_with(' ')), "{svg}");
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }

    #[test]
    fn names_are_escaped() {
        assert_eq!(super::escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn an_arrow_to_no_vertex_is_left_out_and_an_empty_diagram_draws() {
        let mut d = diagram(&["a"], &[("START", "a", ""), ("a", "END", "")]);
        d.arrows.push(Arrow {
            from: 1,
            to: 7,
            kind: ArrowKind::Direct,
        });
        let svg = svg(&d);
        assert_eq!(svg.matches("marker-end=").count(), 2);
        assert_balanced(&svg);
        let empty = Diagram {
            name: String::new(),
            vertices: Vec::new(),
            arrows: Vec::new(),
        };
        assert_balanced(&super::svg(&empty));
        assert_eq!(super::mermaid(&empty), "flowchart TD\n");
    }
}
