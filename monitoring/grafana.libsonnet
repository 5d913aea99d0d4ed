// The few pieces of Grafana's dashboard JSON model the dashboards use (schema 39, Grafana 10 and later).
local datasource = { type: 'prometheus', uid: '${datasource}' };

{
  datasourceVariable:: {
    name: 'datasource',
    label: 'Data source',
    type: 'datasource',
    query: 'prometheus',
    current: {},
    hide: 0,
    refresh: 1,
  },

  // A variable from label_values(); multi-valued ones also offer All (any value, empty included).
  queryVariable(name, label, query, multi=false, includeAll=multi):: {
    name: name,
    label: label,
    type: 'query',
    datasource: datasource,
    query: { query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    definition: query,
    refresh: 2,
    sort: 1,
    multi: multi,
    includeAll: includeAll,
    [if includeAll then 'allValue']: '.*',
    current: {},
    hide: 0,
  },

  target(expr, legend='', instant=false, format='time_series'):: {
    datasource: datasource,
    expr: expr,
    legendFormat: legend,
    instant: instant,
    range: !instant,
    format: format,
  },

  row(title):: { type: 'row', title: title, collapsed: false, panels: [], gridPos: { w: 24, h: 1 } },

  stat(title, expr, unit='none', thresholds=[], description=''):: {
    type: 'stat',
    title: title,
    description: description,
    datasource: datasource,
    targets: [$.target(expr, instant=true)],
    gridPos: { w: 3, h: 4 },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: 'value',
      graphMode: 'none',
    },
    fieldConfig: {
      defaults: {
        unit: unit,
        thresholds: {
          mode: 'absolute',
          steps: [{ color: 'green', value: null }] + [{ color: 'red', value: t } for t in thresholds],
        },
      },
      overrides: [],
    },
  },

  timeseries(title, targets, unit='short', description=''):: {
    type: 'timeseries',
    title: title,
    description: description,
    datasource: datasource,
    targets: targets,
    gridPos: { w: 12, h: 8 },
    options: {
      legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
    fieldConfig: { defaults: { unit: unit, custom: { fillOpacity: 10, lineWidth: 1 } }, overrides: [] },
  },

  // Instant queries joined into rows by their labels; `columns` are the labels kept in front of the values.
  table(title, targets, columns, width=12):: {
    type: 'table',
    title: title,
    datasource: datasource,
    targets: targets,
    gridPos: { w: width, h: 8 },
    transformations: [
      { id: 'merge', options: {} },
      {
        id: 'organize',
        options: {
          excludeByName: { Time: true, __name__: true, job: true },
          renameByName: {
            ['Value #' + std.char(65 + i)]: targets[i].legendFormat
            for i in std.range(0, std.length(targets) - 1)
          },
          indexByName: { [columns[i]]: i for i in std.range(0, std.length(columns) - 1) },
        },
      },
    ],
    fieldConfig: { defaults: {}, overrides: [] },
    options: { showHeader: true },
  },

  // Numbers the panels and places them left to right, a row starting a new line.
  layout(panels)::
    local place(state, panel) =
      local w = panel.gridPos.w;
      local h = panel.gridPos.h;
      local wrap = panel.type == 'row' || state.x + w > 24;
      local x = if wrap then 0 else state.x;
      local y = if wrap then state.y + state.lineHeight else state.y;
      {
        x: x + w,
        y: y,
        lineHeight: if wrap then h else std.max(state.lineHeight, h),
        panels: state.panels + [panel {
          id: std.length(state.panels) + 1,
          gridPos: { x: x, y: y, w: w, h: h },
        } + (
          // Queries are A, B, …, in order (a table's columns are named after them).
          if std.objectHas(panel, 'targets') then {
            targets: [panel.targets[i] { refId: std.char(65 + i) } for i in std.range(0, std.length(panel.targets) - 1)],
          } else {}
        )],
      };
    std.foldl(place, panels, { x: 0, y: 0, lineHeight: 0, panels: [] }).panels,

  dashboard(uid, title, description, tags, timezone, refresh, variables, panels):: {
    uid: uid,
    title: title,
    description: description,
    tags: tags,
    timezone: timezone,
    refresh: refresh,
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    time: { from: 'now-1h', to: 'now' },
    templating: { list: variables },
    annotations: { list: [] },
    links: [
      { title: 'KataPulse dashboards', type: 'dashboards', tags: ['kata-pulse'], asDropdown: true, includeVars: true, keepTime: true },
    ],
    panels: panels,
  },
}
