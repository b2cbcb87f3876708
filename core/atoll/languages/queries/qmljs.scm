; QML: every object is a symbol (named by its id when it has one), plus properties,
; signals and JavaScript functions.
(ui_object_definition type_name: (_) @name) @definition.object
(ui_property name: (_) @name) @definition.property
(ui_signal name: (identifier) @name) @definition.event
(function_declaration name: (identifier) @name) @definition.function
(ui_inline_component name: (identifier) @name) @definition.class
