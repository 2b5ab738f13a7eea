-- ref_departments: every department with its names.
SELECT department_id, name, name_en, kind FROM departments ORDER BY department_id
